package org.promptrecovery4j.training.optim;

import java.nio.FloatBuffer;
import java.util.Collection;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.ndarray.INDArray;

/** {@code torch.nn.utils.clip_grad_norm_} with the L2 norm. */
public final class GradClipping {

  private GradClipping() {}

  /**
   * Scales every gradient in place by {@code min(1, maxNorm / (total + 1e-6))}, where {@code total} is the L2 norm of
   * all gradients together (the norm of the per-tensor norms), and returns {@code total} (before clipping), as torch
   * does. {@code maxNorm <= 0} turns clipping off (the norm is still returned).
   */
  public static float clipGradNorm(Collection<INDArray> grads, double maxNorm) {
    double sumSquares = 0;
    for (INDArray g : grads) {
      float n = norm(g);
      sumSquares += (double) n * n;
    }
    float total = (float) Math.sqrt(sumSquares);
    if (maxNorm <= 0) {
      return total;
    }
    float coef = (float) maxNorm / (total + 1e-6f);
    if (coef < 1f) {
      for (INDArray g : grads) {
        g.muli(coef);
      }
    }
    return total;
  }

  /**
   * The L2 norm of one tensor, accumulated in double and rounded to float32; large tensors in chunks on several
   * threads, the chunks' sums added in order (the same result on every run).
   */
  static float norm(INDArray g) {
    FloatBuffer b = AdamW.contiguous(g).data().asNioFloat();
    int n = (int) g.length();
    double[] parts = IntStream.range(0, (n + CHUNK - 1) / CHUNK).parallel()
        .mapToDouble(c -> sumSquares(b, c * CHUNK, Math.min(n, (c + 1) * CHUNK))).toArray();
    double s = 0;
    for (double p : parts) {
      s += p;
    }
    return (float) Math.sqrt(s);
  }

  private static final int CHUNK = 1 << 16;

  private static double sumSquares(FloatBuffer b, int from, int to) {
    double s = 0;
    for (int i = from; i < to; i++) {
      double x = b.get(i);
      s += x * x;
    }
    return s;
  }
}
