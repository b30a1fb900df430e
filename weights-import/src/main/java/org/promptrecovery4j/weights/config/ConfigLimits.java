package org.promptrecovery4j.weights.config;

import org.promptrecovery4j.weights.ModelFormatException;

/**
 * Upper bounds on the sizes a model file may declare, checked when a config is read and before anything is
 * allocated from them: a {@code config.json} (or a llama2.c header) asking for absurd shapes is a named
 * {@link ModelFormatException}, never an {@link OutOfMemoryError} or an arithmetic overflow later.
 *
 * <p>The bounds are far above every real model of these architectures (largest known in brackets) and far
 * below what overflows {@code int} arithmetic on products of two of them:
 * <ul>
 *   <li>{@link #MAX_VOCAB} 2^21 = 2,097,152 token ids (Gemma 256k, Llama 3 128k);
 *   <li>{@link #MAX_HIDDEN} 2^16 = 65,536 for hidden_size / d_model / embedding_size (Llama 3.1 405B: 16,384);
 *   <li>{@link #MAX_INTERMEDIATE} 2^18 = 262,144 for intermediate_size / d_ff (Llama 3.1 405B: 53,248; T5-11B: 65,536);
 *   <li>{@link #MAX_LAYERS} 1,024 (Llama 3.1 405B: 126);
 *   <li>{@link #MAX_HEADS} 1,024 attention (or key/value) heads (405B: 128);
 *   <li>{@link #MAX_HEAD_DIM} 1,024 per head (Gemma: 256);
 *   <li>{@link #MAX_POSITIONS} 2^24 = 16,777,216 for max_position_embeddings, relative positions, buckets and
 *       distances (Llama 3.1: 131,072; the longest-context models: 10M).
 * </ul>
 */
public final class ConfigLimits {

  public static final int MAX_VOCAB = 1 << 21;
  public static final int MAX_HIDDEN = 1 << 16;
  public static final int MAX_INTERMEDIATE = 1 << 18;
  public static final int MAX_LAYERS = 1024;
  public static final int MAX_HEADS = 1024;
  public static final int MAX_HEAD_DIM = 1024;
  public static final int MAX_POSITIONS = 1 << 24;

  private ConfigLimits() {}

  /** {@code value} in {@code [min, max]}, or an error naming the file, the key, the value and the range. */
  public static int check(Object file, String key, int value, int min, int max) {
    if (value < min || value > max) {
      throw new ModelFormatException(file + ": \"" + key + "\" is " + value + ", outside the supported range ["
          + min + ", " + max + "]" + (value > max ? " (no real model is that large: a corrupt or hostile file?)" : ""));
    }
    return value;
  }

  /** An error naming the file unless {@code ok}. */
  public static void require(Object file, boolean ok, String message) {
    if (!ok) {
      throw new ModelFormatException(file + ": " + message);
    }
  }

  /** Attention heads: {@code heads} in range, {@code kvHeads} in {@code [1, heads]} and dividing it. */
  public static void checkHeads(Object file, String headsKey, int heads, String kvKey, int kvHeads) {
    check(file, headsKey, heads, 1, MAX_HEADS);
    check(file, kvKey, kvHeads, 1, heads);
    require(file, heads % kvHeads == 0, "\"" + headsKey + "\" " + heads + " is not a multiple of \"" + kvKey + "\" "
        + kvHeads);
  }

  /** {@code hidden} divisible by {@code heads} (the head size is {@code hidden / heads}); returns the head size. */
  public static int headSize(Object file, String hiddenKey, int hidden, String headsKey, int heads) {
    require(file, heads > 0 && hidden % heads == 0, "\"" + hiddenKey + "\" " + hidden + " is not divisible by \""
        + headsKey + "\" " + heads);
    return check(file, hiddenKey + " / " + headsKey, hidden / heads, 1, MAX_HEAD_DIM);
  }

  /** A positive finite number (norm epsilons, rope theta). */
  public static double checkPositive(Object file, String key, double value, boolean zeroAllowed) {
    require(file, Double.isFinite(value) && (value > 0 || zeroAllowed && value == 0),
        "\"" + key + "\" is " + value + ", expected a finite " + (zeroAllowed ? "non-negative" : "positive") + " number");
    return value;
  }
}
