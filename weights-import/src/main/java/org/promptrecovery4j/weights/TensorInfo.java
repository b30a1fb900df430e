package org.promptrecovery4j.weights;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Where one tensor lies: its name, dtype, shape, and its bytes {@code [offset, offset + byteLength)}
 * from the start of {@code file}. {@code offset} is {@code -1} where the bytes are not stored as such in the
 * file (a non-contiguous or compressed tensor of a {@link TorchCheckpoint}); read them with
 * {@link WeightSource#bytes}.
 */
public record TensorInfo(String name, DType dtype, long[] shape, Path file, long offset, long byteLength) {

  public long numel() {
    long n = 1;
    for (long s : shape) {
      n *= s;
    }
    return n;
  }

  public String shapeString() {
    return Arrays.toString(shape);
  }

  @Override
  public String toString() {
    return name + " " + dtype + " " + shapeString();
  }
}
