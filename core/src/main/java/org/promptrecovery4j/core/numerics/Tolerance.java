package org.promptrecovery4j.core.numerics;

/**
 * How close an actual value must be to the expected one: {@code |actual - expected| <= atol + rtol * |expected|},
 * elementwise, as {@code numpy.allclose(actual, expected, rtol, atol)} and {@code torch.testing.assert_close}
 * (the expected value is the reference the relative part scales with).
 *
 * @param atol the absolute tolerance, finite and {@code >= 0}
 * @param rtol the relative tolerance, finite and {@code >= 0}
 */
public record Tolerance(double atol, double rtol) {

  /** atol = 1e-4, rtol = 0: the project's fp32 rule for layer outputs of order one. */
  public static final Tolerance DEFAULT = new Tolerance(1e-4, 0);

  public Tolerance {
    if (!(Double.isFinite(atol) && atol >= 0)) {
      throw new IllegalArgumentException("atol must be a finite number >= 0, not " + atol);
    }
    if (!(Double.isFinite(rtol) && rtol >= 0)) {
      throw new IllegalArgumentException("rtol must be a finite number >= 0, not " + rtol);
    }
  }

  public static Tolerance of(double atol, double rtol) {
    return new Tolerance(atol, rtol);
  }

  /** The largest {@code |actual - expected|} allowed where the expected value is {@code expected}. */
  public double allowed(double expected) {
    return atol + rtol * Math.abs(expected);
  }

  /** {@code atol=1e-4 rtol=0}. */
  @Override
  public String toString() {
    return "atol=" + Numbers.compact(atol) + " rtol=" + Numbers.compact(rtol);
  }
}
