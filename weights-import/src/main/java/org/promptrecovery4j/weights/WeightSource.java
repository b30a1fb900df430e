package org.promptrecovery4j.weights;

import java.io.Closeable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Named tensors of a checkpoint (a safetensors file, a sharded set, or a PyTorch pickle), read lazily.
 *
 * <p>{@link #bytes} gives a tensor's stored bytes without conversion (for safetensors a view of the
 * memory-mapped file). {@link #loadFloat} gives an ND4J float32 array, upcasting F16/BF16/F64.
 */
public interface WeightSource extends Closeable {

  /** Where the tensors come from (a file or folder), for messages. */
  Path location();

  /** Tensor names in file order. */
  List<String> names();

  boolean contains(String name);

  /** The tensor's metadata; an error naming the tensor and file if it is absent. */
  TensorInfo info(String name);

  /** The stored bytes of one tensor, little-endian, read-only. */
  ByteBuffer bytes(String name);

  /** {@code length} stored bytes of one tensor from byte {@code from} (for tensors above 2 GB). */
  default ByteBuffer bytes(String name, long from, long length) {
    ByteBuffer all = bytes(name);
    return all.slice(Math.toIntExact(from), Math.toIntExact(length)).order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * Unmaps a buffer returned by {@link #bytes} now, when it maps a file, so its pages leave the process's
   * resident set at once rather than when the buffer is collected (a 14 GB checkpoint copied into native
   * arrays otherwise stays resident twice until a GC: measured 6.7 GiB of file pages on top of the weights
   * while loading Mistral-7B). The buffer must not be used afterwards. Other buffers (heap, slices of a
   * mapping) are left alone.
   */
  static void unmap(ByteBuffer buffer) {
    if (buffer == null || !buffer.isDirect() || !(buffer instanceof java.nio.MappedByteBuffer)) {
      return;
    }
    Unmapper.unmap(buffer);
  }

  /** Number of elements over all floating-point tensors (integer buffers such as position ids excluded). */
  default long parameterCount() {
    long n = 0;
    for (String name : names()) {
      TensorInfo t = info(name);
      if (t.dtype().isFloatingPoint()) {
        n += t.numel();
      }
    }
    return n;
  }

  /** The tensor's values as float32 (F16/BF16/F64 converted exactly as PyTorch's {@code .float()}). */
  default float[] readFloats(String name) {
    TensorInfo t = info(name);
    if (t.numel() > Integer.MAX_VALUE - 8) {
      throw new ModelFormatException(
          location() + ": tensor '" + name + "' has " + t.numel() + " values, too many for one Java array");
    }
    float[] out = new float[(int) t.numel()];
    DTypeConversions.toFloat(t.dtype(), bytes(name).order(ByteOrder.LITTLE_ENDIAN), out, 0, out.length);
    return out;
  }

  /** The tensor as an ND4J FLOAT array (C order) of its shape. */
  default INDArray loadFloat(String name) {
    TensorInfo t = info(name);
    if (!t.dtype().isFloatingPoint()) {
      throw new ModelFormatException(
          location() + ": tensor '" + name + "' is " + t.dtype() + ", not a floating-point tensor");
    }
    long numel = t.numel();
    if (numel <= CHUNK_VALUES) {
      return Nd4j.create(readFloats(name), t.shape(), 'c');
    }
    // large tensors: convert in chunks straight into the native array, never one giant Java array
    INDArray flat = Nd4j.createUninitialized(DataType.FLOAT, new long[] {numel}, 'c');
    int size = t.dtype().byteSize();
    float[] chunk = new float[CHUNK_VALUES];
    for (long start = 0; start < numel; start += CHUNK_VALUES) {
      int n = (int) Math.min(CHUNK_VALUES, numel - start);
      ByteBuffer b = bytes(name, start * size, (long) n * size).order(ByteOrder.LITTLE_ENDIAN);
      DTypeConversions.toFloat(t.dtype(), b, chunk, 0, n);
      INDArray part = n == CHUNK_VALUES ? Nd4j.createFromArray(chunk) : Nd4j.createFromArray(java.util.Arrays.copyOf(chunk, n));
      flat.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(start, start + n)).assign(part);
    }
    return flat.reshape('c', t.shape());
  }

  /** Values converted per step when a tensor is loaded in chunks. */
  int CHUNK_VALUES = 1 << 24;

  /** The tensor as an ND4J array of its own type (integers stay integers; F16/BF16/F64 become FLOAT). */
  default INDArray load(String name) {
    TensorInfo t = info(name);
    if (t.dtype().isFloatingPoint()) {
      return loadFloat(name);
    }
    long[] values = DTypeConversions.toLong(t.dtype(), bytes(name).order(ByteOrder.LITTLE_ENDIAN), t.numel());
    INDArray a = Nd4j.createFromArray(values).reshape('c', t.shape());
    return t.dtype() == DType.I64 ? a : a.castTo(t.dtype() == DType.BOOL ? DataType.BOOL : t.dtype().nd4j());
  }
}
