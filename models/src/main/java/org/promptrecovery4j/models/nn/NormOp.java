package org.promptrecovery4j.models.nn;

import java.nio.FloatBuffer;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;

/**
 * RMSNorm or LayerNorm over the last axis as one graph op computed in Java ({@link JvmOps}), what {@link Norms} builds
 * from six to nine ND4J ops (each a pass over x, 0.3–0.4 ms at 64 rows of 4,096 on two cores):
 * <ul>
 *   <li>{@link #rms}: {@code y = x / sqrt(mean(x²) + eps) · w} (Llama, Mistral, Gemma);</li>
 *   <li>{@link #layer}: {@code c = x - mean(x)}, {@code y = c / sqrt(mean(c²) + eps) · w + b} (phi).</li>
 * </ul>
 * float32 {@code x [..., F]}, {@code w} and {@code b [F]}; one pass per row for each sum (four float32 partial sums),
 * then the scaled product, in float32 as HF computes both norms and in the order {@link Norms} does. One thread:
 * sharing rows between the two cores gained nothing measurable at 512 × 4,096 (13–16 against 15 ms for a prefill's
 * eight norms) and lost at 64 × 4,096 (0.5–0.7 against 0.35 ms a norm). Inference only, like every {@link JvmOps.Op}.
 */
public final class NormOp extends JvmOps.BaseOp {

  private double eps;
  private boolean centered;

  /** For ND4J's reflection only. */
  public NormOp() {}

  private NormOp(SameDiff sd, SDVariable[] inputs, double eps, boolean centered) {
    super(sd, inputs);
    this.eps = eps;
    this.centered = centered;
  }

  /** RMSNorm: {@code x [..., F]} divided by its root mean square over the last axis, times {@code weight [F]}. */
  public static SDVariable rms(SDVariable x, SDVariable weight, double eps) {
    return new NormOp(x.getSameDiff(), new SDVariable[] {x, weight}, eps, false).outputVariable();
  }

  /** LayerNorm: {@code x [..., F]} centred and divided by its standard deviation over the last axis, times {@code weight}, plus {@code bias}. */
  public static SDVariable layer(SDVariable x, SDVariable weight, SDVariable bias, double eps) {
    return new NormOp(x.getSameDiff(), new SDVariable[] {x, weight, bias}, eps, true).outputVariable();
  }

  @Override
  public String opName() {
    return "pr4j_norm";
  }

  @Override
  protected LongShapeDescriptor outputShape(INDArray[] inputs) {
    INDArray x = inputs[0];
    boolean fits = x.rank() >= 1 && x.dataType() == DataType.FLOAT;
    for (int i = 1; fits && i < inputs.length; i++) {
      fits = inputs[i].dataType() == DataType.FLOAT && inputs[i].length() == x.size(-1);
    }
    if (!fits) {
      StringBuilder params = new StringBuilder();
      for (int i = 1; i < inputs.length; i++) {
        params.append(i == 1 ? " with a weight " : " and a bias ").append(inputs[i].dataType())
            .append(java.util.Arrays.toString(inputs[i].shape()));
      }
      throw new IllegalArgumentException(getOwnName() + ": " + (centered ? "LayerNorm" : "RMSNorm") + " of "
          + x.dataType() + java.util.Arrays.toString(x.shape()) + params + " (float32 [..., F] and [F] expected)");
    }
    return LongShapeDescriptor.fromShape(x.shape(), DataType.FLOAT);
  }

  @Override
  public void compute(INDArray[] inputs, INDArray[] outputs) {
    apply(inputs, eps, centered, outputs[0]);
  }

  /** {@code out = norm(x) · w [+ b]} on arrays: {@code inputs} = x, w (and b when {@code centered}). */
  public static void apply(INDArray[] inputs, double eps, boolean centered, INDArray out) {
    JvmOps.onPlain(inputs, out, (in, target) -> {
      int f = (int) in[0].size(-1);
      int rows = f == 0 ? 0 : (int) (in[0].length() / f);
      FloatBuffer src = in[0].data().asNioFloat();
      FloatBuffer dst = target.data().asNioFloat();
      float[] w = new float[f];
      in[1].data().asNioFloat().get(0, w);
      float[] b = null;
      if (centered) {
        b = new float[f];
        in[2].data().asNioFloat().get(0, b);
      }
      for (int r = 0; r < rows; r++) {
        row(src, dst, w, b, r, f, eps);
      }
    });
  }

  private static final ThreadLocal<float[]> ROW = ThreadLocal.withInitial(() -> new float[0]);

  private static void row(FloatBuffer src, FloatBuffer dst, float[] w, float[] b, int r, int f, double eps) {
    float[] v = ROW.get();
    if (v.length < f) {
      v = new float[f];
      ROW.set(v);
    }
    src.get(r * f, v, 0, f);
    if (b != null) {
      float mean = (float) ((double) sum(v, f, false) / f);
      for (int j = 0; j < f; j++) {
        v[j] -= mean;
      }
    }
    float inv = (float) (1 / Math.sqrt((double) sum(v, f, true) / f + eps));
    if (b == null) {
      for (int j = 0; j < f; j++) {
        v[j] = v[j] * inv * w[j];
      }
    } else {
      for (int j = 0; j < f; j++) {
        v[j] = v[j] * inv * w[j] + b[j];
      }
    }
    dst.put(r * f, v, 0, f);
  }

  /** The sum of the first {@code f} values (or of their squares) in four float32 partial sums. */
  private static float sum(float[] v, int f, boolean squares) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int i = 0;
    if (squares) {
      for (; i + 3 < f; i += 4) {
        s0 += v[i] * v[i];
        s1 += v[i + 1] * v[i + 1];
        s2 += v[i + 2] * v[i + 2];
        s3 += v[i + 3] * v[i + 3];
      }
      for (; i < f; i++) {
        s0 += v[i] * v[i];
      }
    } else {
      for (; i + 3 < f; i += 4) {
        s0 += v[i];
        s1 += v[i + 1];
        s2 += v[i + 2];
        s3 += v[i + 3];
      }
      for (; i < f; i++) {
        s0 += v[i];
      }
    }
    return (s0 + s1) + (s2 + s3);
  }
}
