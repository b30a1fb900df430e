package org.promptrecovery4j.core;

import java.nio.ByteBuffer;
import java.util.function.Function;

/**
 * The one reader of the protobuf wire format (ONNX models, SentencePiece {@code .model} files), over a
 * range of a buffer (absolute positions, so a memory-mapped file is read in place). Every length read
 * from the input is checked against the end of the enclosing message before it is used, so a truncated
 * or corrupt file is the caller's named error (naming the file and the byte), never an exception from the
 * buffer or an allocation sized from the file's claim.
 */
public final class ProtoWire {

  public static final int VARINT = 0;
  public static final int I64 = 1;
  public static final int LEN = 2;
  public static final int I32 = 5;

  private final ByteBuffer buf;
  private final String what;
  private final Function<String, ? extends IllegalArgumentException> errors;
  private int pos;
  private final int end;
  private int lastLenStart;

  /**
   * Reads {@code buf[start, end)}, a message called {@code what} in errors; {@code errors} makes the
   * caller's exception from a message (e.g. prefixing the file's name).
   */
  public ProtoWire(ByteBuffer buf, int start, int end, String what,
      Function<String, ? extends IllegalArgumentException> errors) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.what = what;
    this.errors = errors;
  }

  /** A reader of the message that the next length-delimited field holds (which it skips here). */
  public ProtoWire sub(String subWhat) {
    int n = len();
    return new ProtoWire(buf, lastLenStart, lastLenStart + n, subWhat, errors);
  }

  /** The next length-delimited field's bytes, copied. */
  public byte[] bytes() {
    int n = len();
    byte[] b = new byte[n];
    buf.get(lastLenStart, b);
    return b;
  }

  public boolean hasMore() {
    return pos < end;
  }

  public int pos() {
    return pos;
  }

  /** The next field's key ({@code field << 3 | wireType}); wire types other than 0, 1, 2, 5 are errors. */
  public long key() {
    int at = pos;
    long key = varint();
    int wt = (int) (key & 7);
    if ((key >>> 3) == 0 || (wt != VARINT && wt != I64 && wt != LEN && wt != I32)) {
      throw error("invalid field key " + key + " at byte " + at);
    }
    if ((key >>> 3) > 0x1FFFFFFFL) {
      throw error("field number " + (key >>> 3) + " out of range at byte " + at);
    }
    return key;
  }

  public long varint() {
    long v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (pos >= end) {
        throw error("varint runs past the end of the " + what + " at byte " + pos);
      }
      byte b = buf.get(pos++);
      if (shift == 63 && (b & 0x7E) != 0) {
        throw error("varint longer than 64 bits at byte " + (pos - 1));
      }
      v |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        return v;
      }
    }
    throw error("varint longer than 10 bytes at byte " + pos);
  }

  public int fixed32() {
    need(4);
    int v = 0;
    for (int i = 0; i < 4; i++) {
      v |= (buf.get(pos++) & 0xFF) << (8 * i);
    }
    return v;
  }

  public long fixed64() {
    need(8);
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v |= (buf.get(pos++) & 0xFFL) << (8 * i);
    }
    return v;
  }

  /** Reads a length prefix, checks the bytes are there, skips them and returns their length; {@link #lenStart} gives where they begin. */
  public int len() {
    int at = pos;
    long n = varint();
    if (n < 0 || n > end - pos) {
      throw error("length " + Long.toUnsignedString(n) + " past the end at byte " + at + ": it runs past the end of the "
          + what + " (" + (end - pos) + " bytes left): a truncated or corrupt file");
    }
    lastLenStart = pos;
    pos += (int) n;
    return (int) n;
  }

  public int lenStart() {
    return lastLenStart;
  }

  public String string() {
    return new String(bytes(), java.nio.charset.StandardCharsets.UTF_8);
  }

  public void skip(int wireType) {
    switch (wireType) {
      case VARINT -> varint();
      case I64 -> need(8);
      case LEN -> len();
      case I32 -> need(4);
      default -> throw error("invalid wire type " + wireType);
    }
    if (wireType == I64) {
      pos += 8;
    } else if (wireType == I32) {
      pos += 4;
    }
  }

  private void need(int n) {
    if (end - pos < n) {
      throw error(n + "-byte value at byte " + pos + " runs past the end of the " + what);
    }
  }

  public IllegalArgumentException error(String message) {
    return errors.apply(message);
  }
}
