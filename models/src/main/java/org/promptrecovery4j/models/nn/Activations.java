package org.promptrecovery4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * Activation functions by their HuggingFace {@code ACT2FN} names, built from primitives where
 * SameDiff's own are approximations (its gelu is 0.02-0.03 off both of HF's).
 */
public final class Activations {

  private static final double SQRT_HALF = Math.sqrt(0.5);
  private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

  private Activations() {}

  public static SDVariable apply(String hfName, SDVariable x) {
    return switch (hfName) {
      case "gelu" -> geluErf(x);
      case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> geluTanh(x);
      case "relu" -> x.getSameDiff().nn.relu(x, 0);
      case "silu", "swish" -> x.getSameDiff().nn.swish(x);
      default -> throw new IllegalArgumentException("unsupported activation '" + hfName
          + "' (supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu)");
    };
  }

  /** Exact gelu: {@code 0.5 x (1 + erf(x / √2))}. */
  public static SDVariable geluErf(SDVariable x) {
    SameDiff sd = x.getSameDiff();
    return x.mul(0.5).mul(sd.math.erf(x.mul(SQRT_HALF)).add(1.0));
  }

  /** Tanh gelu (gelu_new): {@code 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))}. */
  public static SDVariable geluTanh(SDVariable x) {
    SameDiff sd = x.getSameDiff();
    SDVariable inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(SQRT_2_OVER_PI);
    return x.mul(0.5).mul(sd.math.tanh(inner).add(1.0));
  }
}
