package org.promptrecovery4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The one attention helper: scaled dot-product attention with an additive mask, on
 * {@code [batch, heads, seq, headDim]} tensors. Masks are additive ({@code 0} keep, {@code -1e9} drop):
 * SameDiff's {@code where} with broadcast conditions fails in M2.1.
 */
public final class Attention {

  /** What an additive mask adds to a dropped position. */
  public static final double MASKED = -1e9;

  private Attention() {}

  /**
   * {@code softmax(q kᵀ · scale + bias) v}. {@code q} is [B,H,S,D], {@code k} and {@code v} are
   * [B,H,T,D]; {@code bias} (nullable) broadcasts to [B,H,S,T] and holds masks and position biases.
   */
  public static SDVariable scaledDotProduct(SDVariable q, SDVariable k, SDVariable v, SDVariable bias, double scale) {
    SameDiff sd = q.getSameDiff();
    SDVariable scores = sd.mmul(q, k, false, true, false);
    if (scale != 1.0) {
      scores = scores.mul(scale);
    }
    if (bias != null) {
      scores = scores.add(bias);
    }
    SDVariable probs = sd.nn.softmax(scores, 3);
    return sd.mmul(probs, v);
  }

  /** [B,T] attention mask (1 keep, 0 padding; any numeric type) → additive [B,1,1,T] float mask. */
  public static SDVariable paddingMask(SDVariable attentionMask) {
    SameDiff sd = attentionMask.getSameDiff();
    SDVariable keep = attentionMask.castTo(DataType.FLOAT);
    return keep.rsub(1.0).mul(MASKED).reshape(sd.concat(0,
        sd.shape(attentionMask).get(org.nd4j.autodiff.samediff.SDIndex.point(0)).reshape(1).castTo(DataType.LONG),
        sd.constant(org.nd4j.linalg.factory.Nd4j.createFromArray(1L, 1L)),
        sd.shape(attentionMask).get(org.nd4j.autodiff.samediff.SDIndex.point(1)).reshape(1).castTo(DataType.LONG)));
  }

  /** [B,S,H·D] → [B,H,S,D]. */
  public static SDVariable splitHeads(SDVariable x, long numHeads, long headDim) {
    return x.reshape(x.getSameDiff().concat(0,
        x.getSameDiff().shape(x).get(org.nd4j.autodiff.samediff.SDIndex.interval(0, 2)).castTo(DataType.LONG),
        x.getSameDiff().constant(org.nd4j.linalg.factory.Nd4j.createFromArray(numHeads, headDim))))
        .permute(0, 2, 1, 3);
  }

  /** [B,H,S,D] → [B,S,H·D]. */
  public static SDVariable mergeHeads(SDVariable x, long numHeads, long headDim) {
    SDVariable t = x.permute(0, 2, 1, 3);
    return t.reshape(x.getSameDiff().concat(0,
        x.getSameDiff().shape(t).get(org.nd4j.autodiff.samediff.SDIndex.interval(0, 2)).castTo(DataType.LONG),
        x.getSameDiff().constant(org.nd4j.linalg.factory.Nd4j.createFromArray(numHeads * headDim))));
  }
}
