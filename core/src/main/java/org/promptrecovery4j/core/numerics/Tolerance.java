package org.promptrecovery4j.core.numerics;

/**
 * How close an actual value must be to the expected one: {@code |actual - expected| <= atol + rtol * |expected|},
 * elementwise, as {@code numpy.allclose(actual, expected, rtol, atol)} and {@code torch.testing.assert_close}
 * (the expected value is the reference the relative part scales with).
 *
 * <p>{@link #scaled}: {@code atol} is relative to each tensor's scale, {@code max(1, max |expected|)} over the compared
 * elements: the project's fp32 rule ("1e-4 relative to the output scale") for tensors of any magnitude (T5's
 * activations reach ~35, logits ~10).
 *
 * @param atol the absolute tolerance, finite and {@code >= 0}
 * @param rtol the relative tolerance, finite and {@code >= 0}
 * @param scaled whether {@code atol} is multiplied by each tensor's scale
 */
public record Tolerance(double atol, double rtol, boolean scaled) {

  /** atol = 1e-4, rtol = 0: the project's fp32 rule for layer outputs of order one. */
  public static final Tolerance DEFAULT = new Tolerance(1e-4, 0);

  public Tolerance(double atol, double rtol) {
    this(atol, rtol, false);
  }

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

  /** {@code atol} × each tensor's scale {@code max(1, max |expected|)}, plus {@code rtol · |expected|}. */
  public static Tolerance scaled(double atol, double rtol) {
    return new Tolerance(atol, rtol, true);
  }

  /** The plain tolerance for a tensor of this scale ({@code atol × scale} if {@link #scaled}, else this). */
  public Tolerance forScale(double scale) {
    return scaled ? new Tolerance(atol * Math.max(1.0, scale), rtol) : this;
  }

  /** The largest {@code |actual - expected|} allowed where the expected value is {@code expected}. */
  public double allowed(double expected) {
    return atol + rtol * Math.abs(expected);
  }

  /** {@code atol=1e-4 rtol=0}, or {@code atol=1e-4×scale rtol=0}. */
  @Override
  public String toString() {
    return "atol=" + Numbers.compact(atol) + (scaled ? "×scale" : "") + " rtol=" + Numbers.compact(rtol);
  }
}
