package org.promptrecovery4j.models.deberta;

/**
 * DeBERTa's relative positions ({@code build_relative_position}, {@code make_log_bucket_position}) and
 * the position-row orders that stand in for HF's {@code torch.gather(dim=-1)} of the c2p and p2c terms.
 *
 * <p>Computed in Java once per sequence length (cached by the model) and fed to the graph: the bucket
 * arithmetic runs in float32 exactly as PyTorch does it, so the indices match HF bit for bit.
 */
public final class RelativePositions {

  private RelativePositions() {}

  /** HF {@code make_log_bucket_position} for one query−key distance (float32 arithmetic as torch). */
  public static long logBucketPosition(long relativePos, int bucketSize, int maxPosition) {
    long mid = bucketSize / 2;
    long absPos = relativePos < mid && relativePos > -mid ? mid - 1 : Math.abs(relativePos);
    if (absPos <= mid) {
      return relativePos;
    }
    float ratio = (float) absPos / (float) mid;
    float num = (float) Math.log(ratio);
    float den = (float) Math.log((float) ((double) (maxPosition - 1) / mid));
    float logPos = (float) Math.ceil(num / den * (float) (mid - 1)) + (float) mid;
    return (long) (logPos * Math.signum((float) relativePos));
  }

  /** HF {@code build_relative_position} for query position {@code q} and key position {@code k}. */
  public static long relativePosition(long q, long k, int bucketSize, int maxPosition) {
    long rel = q - k;
    return bucketSize > 0 && maxPosition > 0 ? logBucketPosition(rel, bucketSize, maxPosition) : rel;
  }

  /**
   * Rows of the projected position embeddings in skew order: entry {@code n} (of 2L) is
   * {@code clamp(rel + span, 0, 2span − 1)} for the query−key distance {@code rel = bucket(L − 1 − n)}, HF's
   * {@code c2p_pos}; the last entry only pads the row to 2L.
   */
  public static int[] c2pRows(int length, int span, int bucketSize, int maxPosition) {
    int[] out = new int[2 * length];
    for (int n = 0; n < 2 * length - 1; n++) {
      out[n] = (int) clamp(relativePosition(length - 1 - n, 0, bucketSize, maxPosition) + span, 2L * span - 1);
    }
    return out;
  }

  /** As {@link #c2pRows} for the p2c term: {@code clamp(−bucket(L − 1 − n) + span, 0, 2span − 1)}, HF's {@code p2c_pos}. */
  public static int[] p2cRows(int length, int span, int bucketSize, int maxPosition) {
    int[] out = new int[2 * length];
    for (int n = 0; n < 2 * length - 1; n++) {
      out[n] = (int) clamp(-relativePosition(length - 1 - n, 0, bucketSize, maxPosition) + span, 2L * span - 1);
    }
    return out;
  }

  private static long clamp(long v, long max) {
    return Math.max(0, Math.min(max, v));
  }
}
