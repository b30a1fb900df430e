package org.promptrecovery4j.testkit;

import java.nio.file.Path;
import java.util.Map;
import org.assertj.core.api.AbstractAssert;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.numerics.ComparisonReport;
import org.promptrecovery4j.core.numerics.TensorComparison;
import org.promptrecovery4j.core.numerics.Tolerance;

/**
 * AssertJ assertions on named tensors ({@link TensorAssertions#assertThatTensors}): every expected tensor,
 * in the expected order (lists as {@code name[0]}, {@code name[1]}, ...), must be in actual with the same shape
 * and within the tolerance. A failure reports the first failing layer and every failing tensor with its worst
 * index, both values there and the errors; tensors only in actual are listed, not failed.
 */
public final class TensorMapAssert extends AbstractAssert<TensorMapAssert, Map<String, ?>> {

  private final String what;
  private INDArray mask;

  TensorMapAssert(Map<String, ?> actual, String what) {
    super(actual, TensorMapAssert.class);
    this.what = what;
  }

  /**
   * An attention mask {@code [B, S]} of 0 and 1: positions where it is 0 are not compared in tensors whose
   * first two dimensions are {@code [B, S]}.
   */
  public TensorMapAssert withMask(INDArray mask) {
    TensorComparison.checkMask(mask, "the attention mask");
    this.mask = mask;
    return this;
  }

  /** Every expected tensor present, of the same shape and within {@code |a - e| <= atol + rtol * |e|}. */
  public TensorMapAssert areCloseTo(Map<String, ?> expected, double atol, double rtol) {
    return areCloseTo(expected, Tolerance.of(atol, rtol));
  }

  /** Every expected tensor present, of the same shape and within {@code tolerance}. */
  public TensorMapAssert areCloseTo(Map<String, ?> expected, Tolerance tolerance) {
    return check(expected, "expected", tolerance);
  }

  /** The tensors of a tensor JSON file as expected: {@link #areCloseTo(Map, double, double)}. */
  public TensorMapAssert areCloseTo(Path expected, double atol, double rtol) {
    return areCloseTo(expected, Tolerance.of(atol, rtol));
  }

  /** The tensors of a tensor JSON file as expected, within {@code tolerance}. */
  public TensorMapAssert areCloseTo(Path expected, Tolerance tolerance) {
    return check(TensorAssertions.read(expected), expected.toString(), tolerance);
  }

  private TensorMapAssert check(Map<String, ?> expected, String expectedWhat, Tolerance tolerance) {
    isNotNull();
    Map<String, INDArray> exp = TensorComparison.expand(expected, expectedWhat);
    if (exp.isEmpty()) {
      throw new IllegalArgumentException(expectedWhat + " holds no tensors: nothing to compare");
    }
    ComparisonReport r = TensorComparison.compare(exp, TensorComparison.expand(actual, what), tolerance, mask);
    if (!r.passed()) {
      failWithMessage("%s", "the tensors of " + what + " are not close to those of " + expectedWhat + ": "
          + r.describeFailures());
    }
    return this;
  }
}
