package org.promptrecovery4j.weights;

import java.nio.ByteBuffer;

/** Bulk conversions of stored tensor bytes to float32 and int64, exact as PyTorch's casts. */
public final class DTypeConversions {

  private DTypeConversions() {}

  /** bfloat16 bits → float32: the upper half of the float32 bit pattern. */
  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  /** IEEE half bits → float32 (exact, subnormals included). */
  public static float f16ToFloat(short bits) {
    int h = bits & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0x1f) { // infinity or NaN (payload kept)
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      // zero or subnormal: mant * 2^-24, exact in float32
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** Converts {@code count} values of {@code dtype} from {@code src} (little-endian) into {@code dst[off..]}. */
  public static void toFloat(DType dtype, ByteBuffer src, float[] dst, int off, int count) {
    switch (dtype) {
      case F32 -> src.asFloatBuffer().get(dst, off, count);
      case F64 -> {
        var d = src.asDoubleBuffer();
        for (int i = 0; i < count; i++) {
          dst[off + i] = (float) d.get(i);
        }
      }
      case BF16 -> {
        short[] s = new short[count];
        src.asShortBuffer().get(s);
        for (int i = 0; i < count; i++) {
          dst[off + i] = Float.intBitsToFloat((s[i] & 0xffff) << 16);
        }
      }
      case F16 -> {
        short[] s = new short[count];
        src.asShortBuffer().get(s);
        for (int i = 0; i < count; i++) {
          dst[off + i] = f16ToFloat(s[i]);
        }
      }
      default -> throw new IllegalArgumentException(dtype + " is not a floating-point dtype");
    }
  }

  /** Reads {@code count} integer or boolean values of {@code dtype} from {@code src} (little-endian). */
  public static long[] toLong(DType dtype, ByteBuffer src, long count) {
    long[] out = new long[Math.toIntExact(count)];
    for (int i = 0; i < out.length; i++) {
      out[i] = switch (dtype) {
        case I64 -> src.getLong(i * 8);
        case I32 -> src.getInt(i * 4);
        case I16 -> src.getShort(i * 2);
        case I8 -> src.get(i);
        case U8 -> src.get(i) & 0xff;
        case BOOL -> src.get(i) != 0 ? 1 : 0;
        default -> throw new IllegalArgumentException(dtype + " is not an integer dtype");
      };
    }
    return out;
  }

  /** float32 → bfloat16, round to nearest even (PyTorch's conversion); NaN stays NaN. */
  public static short floatToBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int rounding = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  /** float32 → IEEE half, round to nearest even, overflow to infinity, subnormals kept. */
  public static short floatToF16(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int exp = (bits >>> 23) & 0xff;
    int mant = bits & 0x7fffff;
    if (exp == 0xff) {
      return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
    }
    int e = exp - 127 + 15;
    if (e >= 0x1f) {
      return (short) (sign | 0x7c00);
    }
    if (e <= 0) {
      if (e < -10) {
        return (short) sign;
      }
      int m = mant | 0x800000;
      int shift = 14 - e;
      return (short) (sign | roundShift(m, shift));
    }
    return (short) (sign | ((e << 10) + roundShift(mant, 13)));
  }

  /** {@code m >> shift}, rounded to nearest even (a carry may move into the exponent bits, as it should). */
  private static int roundShift(int m, int shift) {
    int q = m >>> shift;
    int rem = m & ((1 << shift) - 1);
    int half = 1 << (shift - 1);
    return rem > half || (rem == half && (q & 1) != 0) ? q + 1 : q;
  }
}
