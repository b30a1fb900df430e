package org.promptrecovery4j.core.numerics;

import java.util.OptionalInt;

/**
 * How one actual tensor compares with the expected one (see {@link TensorComparison}). Errors are over the
 * compared elements (those the mask keeps); {@code maxRelError} is {@code |a - e| / |e|}, which is 0 where
 * {@code a == e == 0} and infinite where {@code e == 0 != a} (as torch.testing reports it). An element where
 * one side is NaN or infinite and the other is not the same value counts as an infinite error.
 *
 * @param name the tensor's name ({@code hidden_states[2]} for an entry of a list)
 * @param expectedShape the expected tensor's shape
 * @param actualShape the actual tensor's shape, null when it is missing
 * @param outcome pass, or why not
 * @param tolerance the tolerance it was held to
 * @param elements the number of elements of the expected tensor
 * @param masked whether the attention mask applied (its first two dimensions are the mask's [B, S])
 * @param compared how many of them were compared (all but the masked ones; 0 when not compared)
 * @param mismatched how many compared elements are beyond the tolerance
 * @param maxAbsError the largest {@code |a - e|}; 0 when no element was compared, NaN when the tensor was not
 *     (missing, another shape)
 * @param maxRelError the largest {@code |a - e| / |e|}; 0 when no element was compared, NaN when the tensor
 *     was not
 * @param worstIndex the element that uses most of its tolerance, i.e. where {@code |a - e| / (atol + rtol*|e|)}
 *     is largest (ties: the larger {@code |a - e|}, then the first in row-major order); with rtol = 0 that is
 *     where the absolute error is largest, a NaN or infinity mismatch comes before any finite error. A
 *     multi-index such as {@code [0, 3, 17]}; null when no element was compared
 * @param expectedValue the expected value there (NaN when no element was compared)
 * @param actualValue the actual value there (NaN when no element was compared)
 * @param reason why it failed, in words ({@code "5 of 768 elements beyond atol=1e-4 rtol=0"}); empty when it
 *     passed
 */
public record TensorDiff(
    String name,
    long[] expectedShape,
    long[] actualShape,
    Outcome outcome,
    Tolerance tolerance,
    long elements,
    boolean masked,
    long compared,
    long mismatched,
    double maxAbsError,
    double maxRelError,
    long[] worstIndex,
    double expectedValue,
    double actualValue,
    String reason) {

  /** Whether a tensor passed and, if not, why. */
  public enum Outcome {
    /** Every compared element within the tolerance. */
    PASS,
    /** Some finite elements beyond the tolerance. */
    OUT_OF_TOLERANCE,
    /** NaN or an infinity on one side where the other side holds something else. */
    NON_FINITE,
    /** The actual tensor has another shape (nothing compared). */
    SHAPE_MISMATCH,
    /** No actual tensor of that name (nothing compared). */
    MISSING
  }

  public TensorDiff {
    expectedShape = expectedShape.clone();
    actualShape = actualShape == null ? null : actualShape.clone();
    worstIndex = worstIndex == null ? null : worstIndex.clone();
  }

  @Override
  public long[] expectedShape() {
    return expectedShape.clone();
  }

  @Override
  public long[] actualShape() {
    return actualShape == null ? null : actualShape.clone();
  }

  @Override
  public long[] worstIndex() {
    return worstIndex == null ? null : worstIndex.clone();
  }

  public boolean passed() {
    return outcome == Outcome.PASS;
  }

  /** The layer number in the name ({@link LayerNames#layerIndex}), empty for names outside the layers. */
  public OptionalInt layer() {
    return LayerNames.layerIndex(name);
  }

  /** {@code model.layers.2.mlp (layer 2)}, or the name alone when it names no layer. */
  public String nameAndLayer() {
    OptionalInt l = layer();
    return Numbers.name(name) + (l.isPresent() ? " (layer " + l.getAsInt() + ")" : "");
  }

  /**
   * A few lines saying how the tensor compares: its name, shape, outcome, the worst index with both values,
   * the error there against the allowed one, and the largest errors. Assertion messages are made of these.
   */
  public String describe() {
    StringBuilder b = new StringBuilder("tensor '").append(Numbers.name(name)).append("' ")
        .append(Numbers.shape(expectedShape));
    switch (outcome) {
      case MISSING -> {
        return b.append(": ").append(reason).toString();
      }
      case SHAPE_MISMATCH -> {
        return b.append(": ").append(reason).toString();
      }
      case PASS -> b.append(": within ").append(tolerance);
      default -> b.append(": ").append(reason);
    }
    if (worstIndex != null) {
      double err = TensorComparison.error(expectedValue, actualValue);
      double allowed = Double.isFinite(expectedValue) ? tolerance.allowed(expectedValue) : tolerance.atol();
      b.append("\n  worst at ").append(Numbers.shape(worstIndex)).append(": expected ")
          .append(Numbers.compact(expectedValue)).append(", actual ").append(Numbers.compact(actualValue))
          .append(", |actual - expected| = ").append(Numbers.error(err))
          .append(err <= allowed ? " <= " : " > ").append("allowed ").append(Numbers.error(allowed));
      b.append("\n  max abs error ").append(Numbers.error(maxAbsError)).append(", max rel error ")
          .append(Numbers.error(maxRelError)).append(", ").append(compared).append(" of ").append(elements)
          .append(" elements compared");
    } else {
      b.append("\n  no elements compared (").append(elements).append(" in the tensor, ")
          .append(elements - compared).append(" masked)");
    }
    return b.toString();
  }
}
