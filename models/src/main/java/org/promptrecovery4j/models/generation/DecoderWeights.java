package org.promptrecovery4j.models.generation;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;
import org.promptrecovery4j.models.nn.OneDnn;
import org.promptrecovery4j.models.nn.PackedLinearOp;
import org.promptrecovery4j.weights.DType;
import org.promptrecovery4j.weights.ModelFormatException;
import org.promptrecovery4j.weights.TensorInfo;
import org.promptrecovery4j.weights.WeightSource;

/**
 * Binds a decoder's HF-named tensors into its graph, several tensors concatenated along their first axis
 * where a fused op needs them (q/k/v, gate/up), and multiplies activations by them ({@link #product}).
 *
 * <p>Frozen linear weights are transposed once at load to {@code [in, out]}, row-major: oneDNN's GEMM
 * (the natives' matmul) runs {@code x W} on that layout 3–6× faster than {@code x Wᵀ} on HF's
 * {@code [out, in]} at 16 rows (a decode step at batch 16), and about as fast at 1 and 512 rows
 * (docs/performance.md, {@code bench-gemm}). Trainable weights
 * and embedding tables (gathered by row) keep HF's layout. Storage ({@link WeightStorage}): FLOAT32
 * upcasts everything; AS_STORED copies bf16/f16 bytes into native 2-byte arrays (ND4J's BF16
 * {@code createBuffer} is broken, so the bytes are copied directly) and casts them to float where used;
 * BF16 holds every matrix in bf16 and multiplies in bf16: where oneDNN 3.3 is usable ({@link OneDnn}) each frozen
 * {@code [in, out]} matrix is packed at load into its blocked layout and multiplied by {@link PackedLinearOp}
 * (the packed bytes replace the plain ones: no second copy), otherwise by ND4J's bf16 {@code mmul}. FLOAT32's frozen
 * matrices are packed the same way in graphs not built for training ({@link OneDnn#packsFloat32()}): a product of one
 * row reads the packed weight 1.4–2.0× faster than ND4J's oneDNN reads the plain one (docs/performance.md).
 */
public final class DecoderWeights {

  private final SameDiff sd;
  private final WeightSource source;
  private final DecoderOptions options;
  private final org.promptrecovery4j.models.nn.ModuleOutputs outputs = new org.promptrecovery4j.models.nn.ModuleOutputs("");
  private long storedBytes;
  private boolean castsPerUse;
  /** Names of the matrices held transposed, {@code [in, out]}. */
  private final java.util.Set<String> inOut = new java.util.HashSet<>();
  /** The bf16 matrices packed for oneDNN 3.3 ({@link OneDnn}): bound as their packed bytes, multiplied by {@link PackedLinearOp}. */
  private final java.util.Map<String, OneDnn.PackedWeight> packed = new java.util.HashMap<>();

  public DecoderWeights(SameDiff sd, WeightSource source, DecoderOptions options) {
    this.sd = sd;
    this.source = source;
    this.options = options;
  }

  /** Where the graph's modules register their outputs under HF names. */
  public org.promptrecovery4j.models.nn.ModuleOutputs outputs() {
    return outputs;
  }

  public SameDiff graph() {
    return sd;
  }

  public WeightSource source() {
    return source;
  }

  public DecoderOptions options() {
    return options;
  }

  public boolean has(String name) {
    return source.contains(name);
  }

  /** Bytes of weights held by the graph so far. */
  public long storedBytes() {
    return storedBytes;
  }

  /** Whether some weight is kept in a 2-byte type and cast to float where it is used. */
  public boolean castsPerUse() {
    return castsPerUse;
  }

  /** The first of {@code names} the checkpoint holds. */
  public String resolve(String... names) {
    for (String n : names) {
      if (source.contains(n)) {
        return n;
      }
    }
    throw new ModelFormatException(source.location() + ": missing tensor " + String.join(" or ", names));
  }

  /** A float32 tensor (norm weights, biases), optionally plus a constant (Gemma's {@code 1 + w}). */
  public SDVariable vector(String name, double plus) {
    INDArray a = load(name);
    if (plus != 0) {
      a.addi(plus);
    }
    storedBytes += a.length() * 4;
    return bind(name, a);
  }

  /** Float32 vectors concatenated (fused biases), bound under {@code boundName}. */
  public SDVariable vectors(String boundName, List<String> names) {
    if (names.size() == 1) {
      return vector(names.get(0), 0);
    }
    List<INDArray> parts = new ArrayList<>();
    for (String n : names) {
      parts.add(load(n));
    }
    INDArray cat = Nd4j.concat(0, parts.toArray(INDArray[]::new));
    storedBytes += cat.length() * 4;
    return bind(boundName, cat);
  }

  /**
   * {@code [sum(out), in]} matrices concatenated along the first axis, bound under {@code boundName} (in
   * the storage's dtype) for use through {@link #product}: transposed to {@code [in, sum(out)]} unless
   * trainable.
   */
  public SDVariable matrix(String boundName, List<String> names) {
    boolean transpose = !options.trainable().test(names.get(0));
    INDArray stored = storedMatrix(names, transpose);
    String name = names.size() == 1 ? names.get(0) : boundName;
    if (transpose) {
      inOut.add(name);
    }
    if (transpose && !options.differentiable() && packs(stored.dataType())) {
      OneDnn.PackedWeight p = OneDnn.pack(stored);
      stored.close();
      packed.put(name, p);
      stored = p.array();
    }
    storedBytes += stored.length() * stored.dataType().width();
    return bind(name, stored);
  }

  /**
   * Whether a frozen {@code [in, out]} matrix of this type is packed for oneDNN 3.3: bf16 ones with
   * {@link WeightStorage#BF16} where its bf16 kernels run, float32 ones where {@link OneDnn#packsFloat32()}.
   */
  private boolean packs(DataType type) {
    return type == DataType.BFLOAT16 ? options.storage() == WeightStorage.BF16 && OneDnn.available()
        : type == DataType.FLOAT && OneDnn.packsFloat32();
  }

  /**
   * {@code x Wᵀ} for HF's {@code nn.Linear} weight {@code W} bound here ({@link #matrix} or {@link #table}):
   * x [N, in] float32 → [N, out] float32. With {@link WeightStorage#BF16}, x is cast to bf16, multiplied by
   * the bf16 weight (oneDNN: bf16 products, float32 accumulation, bf16 result, as PyTorch's bf16 linear)
   * and the result cast back to float32; otherwise the product is float32 ({@link #asFloat}).
   */
  public SDVariable product(SDVariable x, SDVariable weight) {
    SameDiff g = x.getSameDiff();
    boolean transposeW = !inOut.contains(weight.name());
    OneDnn.PackedWeight p = packed.get(weight.name());
    if (p != null) {
      return PackedLinearOp.apply(x, weight, p);
    }
    if (weight.dataType() == DataType.BFLOAT16 && options.storage() == WeightStorage.BF16) {
      return g.mmul(x.castTo(DataType.BFLOAT16), weight, false, transposeW, false).castTo(DataType.FLOAT);
    }
    return g.mmul(x, asFloat(weight, x), false, transposeW, false);
  }

  /** The oneDNN-packed form of a weight bound by {@link #matrix}, or null where it was not packed. */
  public OneDnn.PackedWeight packed(SDVariable weight) {
    return packed.get(weight.name());
  }

  /**
   * A weight as FLOAT for one use: a weight kept as stored is cast there, and the cast waits (control
   * dependency) for {@code after}, the input of the op that uses it. Without that wait SameDiff runs
   * every cast at the start of a run (their inputs are all constants, ready at once), so the float copies
   * of all layers would live at the same time (measured: peak RSS = stored + full float size).
   */
  public static SDVariable asFloat(SDVariable weight, SDVariable after) {
    if (weight.dataType() == DataType.FLOAT) {
      return weight;
    }
    SDVariable f = weight.castTo(DataType.FLOAT);
    f.addControlDependency(after);
    return f;
  }

  /** The embedding table in its stored form (rows are gathered first, then cast). */
  public SDVariable table(String name) {
    INDArray stored = storedMatrix(List.of(name), false);
    storedBytes += stored.length() * stored.dataType().width();
    return bind(name, stored);
  }

  private SDVariable bind(String name, INDArray value) {
    return options.trainable().test(name) ? sd.var(name, value) : sd.constant(name, value);
  }

  private INDArray load(String name) {
    if (!source.contains(name)) {
      throw new ModelFormatException(source.location() + ": missing tensor '" + name + "'");
    }
    return source.loadFloat(name);
  }

  /**
   * The {@code [sum(out), in]} concatenation of {@code names} ({@code [in, sum(out)]} if {@code transpose}) in the
   * storage's dtype, copied natively from the checkpoint's bytes (no Java heap copy of the whole matrix).
   */
  private INDArray storedMatrix(List<String> names, boolean transpose) {
    List<TensorInfo> infos = new ArrayList<>();
    long rows = 0;
    long cols = -1;
    DType dtype = null;
    for (String n : names) {
      if (!source.contains(n)) {
        throw new ModelFormatException(source.location() + ": missing tensor '" + n + "'");
      }
      TensorInfo t = source.info(n);
      if (t.shape().length != 2 || (cols >= 0 && t.shape()[1] != cols)) {
        throw new ModelFormatException(source.location() + ": tensor '" + n + "' should be [out, " + (cols < 0 ? "in" : cols)
            + "], is " + t.shapeString());
      }
      cols = t.shape()[1];
      rows += t.shape()[0];
      dtype = dtype == null || dtype == t.dtype() ? t.dtype() : DType.F32;
      infos.add(t);
    }
    boolean twoBytes = dtype == DType.BF16 || dtype == DType.F16;
    if (!twoBytes && dtype != DType.F32) {
      INDArray m = names.size() == 1 ? load(names.get(0))
          : Nd4j.concat(0, names.stream().map(this::load).toArray(INDArray[]::new));
      return transpose ? m.transpose().dup('c') : m;
    }
    // the stored bytes copied natively (no Java heap, no concat copy); 2-byte types upcast natively
    // unless kept as stored (bf16 → f32 is exact: the bits shifted)
    INDArray out = Nd4j.createUninitialized(dtype.nd4j(), transpose ? new long[] {cols, rows} : new long[] {rows, cols}, 'c');
    BytePointer dst = new BytePointer(out.data().addressPointer());
    int width = dtype.byteSize();
    long offset = 0;
    long rowOffset = 0;
    for (TensorInfo t : infos) {
      if (transpose) {
        copyTransposed(t, dst, rowOffset, rows, cols, width);
        rowOffset += t.shape()[0];
        continue;
      }
      long len = t.numel() * width;
      long chunk = 1L << 30;
      for (long from = 0; from < len; from += chunk) {
        long n = Math.min(chunk, len - from);
        java.nio.ByteBuffer mapped = source.bytes(t.name(), from, n);
        BytePointer src = new BytePointer(mapped);
        src.position(0).limit(n);
        dst.position(offset + from).put(src);
        WeightSource.unmap(mapped); // the file's pages leave RSS now, not at the next GC
      }
      offset += len;
    }
    boolean trainable = options.trainable().test(names.get(0));
    if (options.storage() == WeightStorage.BF16 && !trainable) {
      if (dtype == DType.BF16) {
        return out;
      }
      INDArray b = out.castTo(DataType.BFLOAT16); // f32 and f16 rounded to the nearest bf16
      out.close();
      return b;
    }
    boolean keep = twoBytes && options.storage() == WeightStorage.AS_STORED && !trainable;
    if (twoBytes && !keep) {
      INDArray f = out.castTo(DataType.FLOAT);
      out.close();
      return f;
    }
    castsPerUse |= keep;
    return out;
  }

  /**
   * Writes tensor {@code t} ({@code [r, cols]}, rows {@code rowOffset..} of the fused matrix) transposed into the
   * {@code [cols, rows]} row-major destination, a block of rows at a time: each block is read from the checkpoint,
   * transposed in Java and written as one contiguous run per destination row. ND4J's strided copy
   * ({@code transpose().dup('c')}) took ~1 s per 117M-value matrix, a minute for Mistral-7B; this is a few
   * seconds.
   */
  private void copyTransposed(TensorInfo t, BytePointer dst, long rowOffset, long rows, long cols, int width) {
    long r = t.shape()[0];
    int c = Math.toIntExact(cols);
    int k = width / 2; // 16-bit halves a value: bf16/f16 1, f32 2
    int block = (int) Math.max(1, Math.min(r, Math.max(64, (1 << 20) / c)));
    short[] src = new short[block * c * k];
    short[] tile = new short[block * c * k];
    org.bytedeco.javacpp.ShortPointer out = new org.bytedeco.javacpp.ShortPointer(dst);
    for (long r0 = 0; r0 < r; r0 += block) {
      int n = (int) Math.min(block, r - r0);
      java.nio.ByteBuffer mapped = source.bytes(t.name(), r0 * cols * width, (long) n * c * width);
      mapped.asShortBuffer().get(src, 0, n * c * k);
      WeightSource.unmap(mapped);
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < c; j++) {
          for (int h = 0; h < k; h++) {
            tile[(j * n + i) * k + h] = src[(i * c + j) * k + h];
          }
        }
      }
      for (int j = 0; j < c; j++) {
        out.position((j * rows + rowOffset + r0) * k).put(tile, j * n * k, n * k);
      }
    }
  }
}
