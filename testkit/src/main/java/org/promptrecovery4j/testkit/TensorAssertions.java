package org.promptrecovery4j.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.TensorJson;

/**
 * Entry points of the testkit's AssertJ assertions for layer numerics:
 *
 * <pre>{@code
 * assertThatTensor(actual).named("model.layers.2.mlp").isCloseTo(expected, 1e-4, 0);
 * assertThatTensors(Path.of("jvm.json")).withMask(mask).areCloseTo(Path.of("reference.json"), 1e-4, 0);
 * }</pre>
 *
 * An element passes when {@code |actual - expected| <= atol + rtol * |expected|}; the comparison is the one of
 * the {@code compare} command ({@code core.numerics.TensorComparison}).
 */
public final class TensorAssertions {

  private TensorAssertions() {}

  /** Assertions on one tensor. */
  public static TensorAssert assertThatTensor(INDArray actual) {
    return new TensorAssert(actual);
  }

  /**
   * Assertions on named tensors: values {@link INDArray} or {@code List<INDArray>}, as {@link TensorJson#read}
   * gives them (e.g. a model's {@code forward} outputs).
   */
  public static TensorMapAssert assertThatTensors(Map<String, ?> actual) {
    return new TensorMapAssert(actual, "actual");
  }

  /** Assertions on the tensors of a tensor JSON file; a file that cannot be read is an error naming it. */
  public static TensorMapAssert assertThatTensors(Path actual) {
    return new TensorMapAssert(read(actual), actual.toString());
  }

  static Map<String, Object> read(Path file) {
    try {
      return TensorJson.read(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage().contains(file.toString()) ? e.getMessage()
          : file + ": " + e.getMessage(), e);
    }
  }
}
