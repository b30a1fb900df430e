package org.promptrecovery4j.models.deberta;

/**
 * DeBERTa's relative positions ({@code build_relative_position}, {@code make_log_bucket_position}) and
 * the flat gather offsets that stand in for HF's {@code torch.gather(dim=-1)} of the c2p and p2c terms.
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
   * Offsets into the c2p scores flattened to {@code [.., L * 2·span]}: entry {@code i·L + j} is
   * {@code i·2span + clamp(rel(i, j) + span, 0, 2span − 1)}, HF's {@code c2p_pos}.
   */
  public static int[] c2pOffsets(int length, int span, int bucketSize, int maxPosition) {
    int[] out = new int[length * length];
    for (int i = 0; i < length; i++) {
      for (int j = 0; j < length; j++) {
        long idx = clamp(relativePosition(i, j, bucketSize, maxPosition) + span, 2L * span - 1);
        out[i * length + j] = (int) (i * 2L * span + idx);
      }
    }
    return out;
  }

  /**
   * Offsets into the p2c scores (key rows) flattened to {@code [.., L * 2·span]}: entry {@code r·L + c}
   * is {@code r·2span + clamp(−rel(r, c) + span, 0, 2span − 1)}, HF's {@code p2c_pos}; the gathered
   * matrix is then transposed, as HF does.
   */
  public static int[] p2cOffsets(int length, int span, int bucketSize, int maxPosition) {
    int[] out = new int[length * length];
    for (int r = 0; r < length; r++) {
      for (int c = 0; c < length; c++) {
        long idx = clamp(-relativePosition(r, c, bucketSize, maxPosition) + span, 2L * span - 1);
        out[r * length + c] = (int) (r * 2L * span + idx);
      }
    }
    return out;
  }

  private static long clamp(long v, long max) {
    return Math.max(0, Math.min(max, v));
  }
}
