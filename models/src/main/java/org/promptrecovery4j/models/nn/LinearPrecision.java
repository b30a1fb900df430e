package org.promptrecovery4j.models.nn;

/**
 * How the frozen linear layers of an encoder multiply ({@link ParameterBinder}, {@link Linear}).
 *
 * <p>{@link #FLOAT32} (the default) holds every weight in float32. {@link #BF16} holds each frozen {@code nn.Linear}
 * weight in bf16 (the checkpoint's values rounded to nearest even) and multiplies in bf16: the layer's input is
 * rounded to bf16, oneDNN's bf16 GEMM accumulates in float32 and rounds the product to bf16, which is cast back to
 * float32 before the (float32) bias. Embeddings, norms, attention scores, softmax and residuals stay float32, and
 * trainable weights are always float32.
 */
public enum LinearPrecision {
  FLOAT32("float32"),
  BF16("bf16");

  private final String option;

  LinearPrecision(String option) {
    this.option = option;
  }

  /** The value as a command-line option spells it: {@code float32} or {@code bf16}. */
  public String option() {
    return option;
  }

  /** {@code float32} or {@code bf16} (any case); anything else is an error listing both. */
  public static LinearPrecision parse(String value) {
    for (LinearPrecision p : values()) {
      if (p.option.equalsIgnoreCase(value == null ? "" : value.trim())) {
        return p;
      }
    }
    throw new IllegalArgumentException("unknown compute precision '" + value + "' (float32, bf16)");
  }

  @Override
  public String toString() {
    return option;
  }
}
