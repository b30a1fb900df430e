package org.promptrecovery4j.models.generation;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.nn.Attention;

/** Additive attention masks for {@link CausalLM}'s {@code attn_bias} input, built on the Java side. */
public final class AttentionMasks {

  private AttentionMasks() {}

  /**
   * [B,1,G·S,T]: the S new queries sit at key indices {@code past .. past+S-1} of the T = past + S keys;
   * query q sees key t when {@code valid[b][t]}, {@code t <= q} and, with a sliding window W,
   * {@code t > q - W} (HF's {@code sliding_window_overlay}). Rows repeat for the G query heads of a KV
   * head.
   */
  public static INDArray causal(boolean[][] valid, int past, int s, int groups, Integer window) {
    int b = valid.length;
    int t = past + s;
    float[] data = new float[b * groups * s * t];
    float masked = (float) Attention.MASKED;
    for (int i = 0; i < b; i++) {
      if (valid[i].length != t) {
        throw new IllegalArgumentException("key mask of row " + i + " has " + valid[i].length + " keys, expected " + t);
      }
      for (int g = 0; g < groups; g++) {
        for (int q = 0; q < s; q++) {
          int qi = past + q;
          int base = ((i * groups + g) * s + q) * t;
          for (int k = 0; k < t; k++) {
            boolean see = valid[i][k] && k <= qi && (window == null || k > qi - window);
            data[base + k] = see ? 0f : masked;
          }
        }
      }
    }
    return Nd4j.create(data, new long[] {b, 1, (long) groups * s, t}, 'c');
  }
}
