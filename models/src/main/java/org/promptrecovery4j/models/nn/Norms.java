package org.promptrecovery4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Normalisations built from primitives: SameDiff's layerNorm has no epsilon, and reductions with a
 * negative axis and keepDims are silently wrong in M2.1, so every axis here is positive.
 */
public final class Norms {

  private Norms() {}

  /** HF {@code nn.LayerNorm} over {@code axis} (the last one): {@code (x - mean) / sqrt(var + eps) * w + b}. */
  public static SDVariable layerNorm(SDVariable x, SDVariable weight, SDVariable bias, double eps, int axis) {
    SDVariable centered = x.sub(x.mean(true, axis));
    SDVariable variance = centered.mul(centered).mean(true, axis);
    SDVariable y = centered.mul(x.getSameDiff().math.rsqrt(variance.add(eps))).mul(weight);
    return bias == null ? y : y.add(bias);
  }

  /**
   * RMSNorm (Llama/Mistral, T5LayerNorm): {@code x / sqrt(mean(x²) + eps) * w}; no mean, no bias.
   * Gemma's {@code (1 + w)} form is the caller's weight plus one.
   */
  public static SDVariable rmsNorm(SDVariable x, SDVariable weight, double eps, int axis) {
    SDVariable ms = x.mul(x).mean(true, axis);
    return x.mul(x.getSameDiff().math.rsqrt(ms.add(eps))).mul(weight);
  }
}
