package org.promptrecovery4j.models.generation;

import java.util.Arrays;
import java.util.Random;

/**
 * HF's logits processors and warpers on one row of logits, in {@code generate}'s order: repetition
 * penalty, then (sampling only) temperature, top-k, top-p; removed tokens become -∞.
 */
public final class LogitsProcessing {

  private LogitsProcessing() {}

  /** {@code RepetitionPenaltyLogitsProcessor}: each id seen once, however often it occurs. */
  public static void repetitionPenalty(float[] logits, int[] seen, int seenLength, double penalty) {
    if (penalty == 1.0) {
      return;
    }
    boolean[] done = new boolean[logits.length];
    for (int i = 0; i < seenLength; i++) {
      int id = seen[i];
      if (id < 0 || id >= logits.length || done[id]) {
        continue;
      }
      done[id] = true;
      float s = logits[id];
      logits[id] = (float) (s < 0 ? s * penalty : s / penalty);
    }
  }

  public static void temperature(float[] logits, double t) {
    if (t == 1.0) {
      return;
    }
    for (int i = 0; i < logits.length; i++) {
      logits[i] = (float) (logits[i] / t);
    }
  }

  /** {@code TopKLogitsWarper}: removes scores below the k-th largest (ties with it stay). */
  public static void topK(float[] logits, int k) {
    if (k <= 0 || k >= logits.length) {
      return;
    }
    float[] sorted = logits.clone();
    Arrays.sort(sorted);
    float kth = sorted[sorted.length - k];
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] < kth) {
        logits[i] = Float.NEGATIVE_INFINITY;
      }
    }
  }

  /**
   * {@code TopPLogitsWarper}: in ascending order of score, tokens whose cumulative probability is
   * {@code <= 1 - p} are removed; the most likely token always stays.
   */
  public static void topP(float[] logits, double p) {
    if (p >= 1.0) {
      return;
    }
    int n = logits.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Float.compare(logits[a], logits[b])); // stable: ties keep index order
    double[] probs = softmax(logits);
    double cum = 0;
    for (int r = 0; r < n - 1; r++) {
      int id = order[r];
      cum += probs[id];
      if (cum <= 1 - p) {
        logits[id] = Float.NEGATIVE_INFINITY;
      }
    }
  }

  public static double[] softmax(float[] logits) {
    double max = Double.NEGATIVE_INFINITY;
    for (float v : logits) {
      max = Math.max(max, v);
    }
    double[] p = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < p.length; i++) {
      p[i] = logits[i] == Float.NEGATIVE_INFINITY ? 0 : Math.exp(logits[i] - max);
      sum += p[i];
    }
    for (int i = 0; i < p.length; i++) {
      p[i] /= sum;
    }
    return p;
  }

  /** The first index of the largest value (as {@code torch.argmax}). */
  public static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }

  /** Draws an index from the softmax of the logits. */
  public static int sample(float[] logits, Random random) {
    double[] p = softmax(logits);
    double u = random.nextDouble();
    double cum = 0;
    int last = 0;
    for (int i = 0; i < p.length; i++) {
      if (p[i] > 0) {
        cum += p[i];
        last = i;
        if (u < cum) {
          return i;
        }
      }
    }
    return last;
  }

  /** The next token of one row under {@code config}; {@code logits} is modified. */
  public static int next(float[] logits, int[] sequence, int length, GenerationConfig config, Random random) {
    repetitionPenalty(logits, sequence, length, config.repetitionPenalty());
    if (!config.doSample()) {
      return argmax(logits);
    }
    temperature(logits, config.temperature());
    topK(logits, config.topK());
    topP(logits, config.topP());
    return sample(logits, random);
  }
}
