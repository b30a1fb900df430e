package org.promptrecovery4j.models.nn;

import java.nio.FloatBuffer;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;

/**
 * RMSNorm over the last axis as one graph op computed in Java ({@link JvmOps}): {@code y = x / sqrt(mean(x²) + eps) * w}
 * for float32 {@code x [..., F]} and {@code w [F]}, what {@link Norms#rmsNorm} builds from six ND4J ops (each a pass
 * over x, 0.3–0.4 ms at 64 rows of 4,096 on two cores). One pass per row here: the sum of squares (four float32
 * partial sums), then the scaled product, in float32 as HF computes RMSNorm. One thread: sharing rows between the
 * two cores gained nothing measurable at 512 × 4,096 (13–16 against 15 ms for a prefill's eight norms) and lost at
 * 64 × 4,096 (0.5–0.7 against 0.35 ms a norm). Inference only, like every {@link JvmOps.Op}.
 */
public final class RmsNormOp extends JvmOps.BaseOp {

  private double eps;

  /** For ND4J's reflection only. */
  public RmsNormOp() {}

  private RmsNormOp(SameDiff sd, SDVariable x, SDVariable weight, double eps) {
    super(sd, new SDVariable[] {x, weight});
    this.eps = eps;
  }

  /** {@code x [..., F]} normalised by its root mean square over the last axis and scaled by {@code weight [F]}. */
  public static SDVariable apply(SDVariable x, SDVariable weight, double eps) {
    return new RmsNormOp(x.getSameDiff(), x, weight, eps).outputVariable();
  }

  @Override
  public String opName() {
    return "pr4j_rms_norm";
  }

  @Override
  protected LongShapeDescriptor outputShape(INDArray[] inputs) {
    INDArray x = inputs[0];
    INDArray w = inputs[1];
    if (x.rank() < 1 || x.dataType() != DataType.FLOAT || w.dataType() != DataType.FLOAT || w.length() != x.size(-1)) {
      throw new IllegalArgumentException(getOwnName() + ": RMSNorm of " + x.dataType()
          + java.util.Arrays.toString(x.shape()) + " with a weight " + w.dataType() + java.util.Arrays.toString(w.shape())
          + " (float32 [..., F] and [F] expected)");
    }
    return LongShapeDescriptor.fromShape(x.shape(), DataType.FLOAT);
  }

  @Override
  public void compute(INDArray[] inputs, INDArray[] outputs) {
    apply(inputs[0], inputs[1], eps, outputs[0]);
  }

  /** {@code out = rmsNorm(x) * w} on arrays ({@code out} the shape of {@code x}). */
  public static void apply(INDArray x, INDArray weight, double eps, INDArray out) {
    JvmOps.onPlain(new INDArray[] {x, weight}, out, (in, target) -> {
      int f = (int) in[0].size(-1);
      int rows = f == 0 ? 0 : (int) (in[0].length() / f);
      FloatBuffer src = in[0].data().asNioFloat();
      FloatBuffer dst = target.data().asNioFloat();
      float[] scale = new float[f];
      in[1].data().asNioFloat().get(0, scale);
      for (int r = 0; r < rows; r++) {
        row(src, dst, scale, r, f, eps);
      }
    });
  }

  private static final ThreadLocal<float[]> ROW = ThreadLocal.withInitial(() -> new float[0]);

  private static void row(FloatBuffer src, FloatBuffer dst, float[] w, int r, int f, double eps) {
    float[] v = ROW.get();
    if (v.length < f) {
      v = new float[f];
      ROW.set(v);
    }
    src.get(r * f, v, 0, f);
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int i = 0;
    for (; i + 3 < f; i += 4) {
      s0 += v[i] * v[i];
      s1 += v[i + 1] * v[i + 1];
      s2 += v[i + 2] * v[i + 2];
      s3 += v[i + 3] * v[i + 3];
    }
    for (; i < f; i++) {
      s0 += v[i] * v[i];
    }
    float inv = (float) (1 / Math.sqrt((double) ((s0 + s1) + (s2 + s3)) / f + eps));
    for (int j = 0; j < f; j++) {
      v[j] = v[j] * inv * w[j];
    }
    dst.put(r * f, v, 0, f);
  }
}
