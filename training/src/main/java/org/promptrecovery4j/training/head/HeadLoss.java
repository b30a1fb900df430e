package org.promptrecovery4j.training.head;

import java.util.Locale;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The regression losses, each a mean over the batch, with {@code cos = F.cosine_similarity(pred, target, dim=1,
 * eps=1e-8)} (each row divided by its norm clamped to eps, then the dot product, as torch computes it):
 * <ul>
 *   <li>{@link #COSINE}: {@code mean(1 - cos)} (the seed's),
 *   <li>{@link #SCS}: {@code mean(1 - cos^3)} (the competition's sharpened cosine, as a loss),
 *   <li>{@link #MSE}: {@code F.mse_loss(pred, target)}, the mean over all values.
 * </ul>
 */
public enum HeadLoss {
  COSINE,
  SCS,
  MSE;

  private static final double COSINE_EPS = 1e-8;

  /** The loss by its command-line name (cosine, scs, mse). */
  public static HeadLoss parse(String name) {
    try {
      return valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown loss '" + name + "' (expected cosine, scs or mse)");
    }
  }

  /** The scalar loss of {@code pred} against {@code target}, both [B, D]. */
  public SDVariable build(SameDiff sd, SDVariable pred, SDVariable target) {
    if (this == MSE) {
      SDVariable d = pred.sub(target);
      return d.mul(d).mean();
    }
    SDVariable cos = cosine(sd, pred, target);
    SDVariable term = this == COSINE ? cos : cos.mul(cos).mul(cos);
    return term.mean().rsub(1.0);
  }

  /** Row-wise cosine similarity [B] of two [B, D] inputs (positive axes only: a negative keepDims axis is wrong in M2.1). */
  static SDVariable cosine(SameDiff sd, SDVariable a, SDVariable b) {
    SDVariable eps = sd.constant(Nd4j.scalar((float) COSINE_EPS));
    SDVariable an = a.div(sd.math.max(a.norm2(true, 1), eps));
    SDVariable bn = b.div(sd.math.max(b.norm2(true, 1), eps));
    return an.mul(bn).sum(1);
  }
}
