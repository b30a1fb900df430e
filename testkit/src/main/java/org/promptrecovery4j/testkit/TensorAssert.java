package org.promptrecovery4j.testkit;

import org.assertj.core.api.AbstractAssert;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.numerics.TensorComparison;
import org.promptrecovery4j.core.numerics.TensorDiff;
import org.promptrecovery4j.core.numerics.Tolerance;

/**
 * AssertJ assertions on one tensor ({@link TensorAssertions#assertThatTensor}). A failure names the tensor,
 * its shape, the worst index, the expected and actual values there, the error against the allowed one, the
 * largest absolute and relative errors and the tolerance.
 */
public final class TensorAssert extends AbstractAssert<TensorAssert, INDArray> {

  private String name = "tensor";
  private INDArray mask;

  TensorAssert(INDArray actual) {
    super(actual, TensorAssert.class);
  }

  /** The tensor's name in failure messages (e.g. the HF module name {@code model.layers.2.mlp}). */
  public TensorAssert named(String name) {
    this.name = name;
    return this;
  }

  /**
   * An attention mask {@code [B, S]} of 0 and 1: positions where it is 0 are not compared when the tensor's
   * first two dimensions are {@code [B, S]}.
   */
  public TensorAssert withMask(INDArray mask) {
    TensorComparison.checkMask(mask, "the attention mask");
    this.mask = mask;
    return this;
  }

  /** Every element within {@code |actual - expected| <= atol + rtol * |expected|}, with the same shape. */
  public TensorAssert isCloseTo(INDArray expected, double atol, double rtol) {
    return isCloseTo(expected, Tolerance.of(atol, rtol));
  }

  /** Every element within {@code tolerance}, with the same shape. */
  public TensorAssert isCloseTo(INDArray expected, Tolerance tolerance) {
    isNotNull();
    if (expected == null) {
      throw new IllegalArgumentException("the expected tensor of '" + name + "' is null");
    }
    TensorDiff d = TensorComparison.compare(name, expected, actual, tolerance, mask);
    if (!d.passed()) {
      failWithMessage("%s", d.describe());
    }
    return this;
  }
}
