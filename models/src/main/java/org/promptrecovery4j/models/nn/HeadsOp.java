package org.promptrecovery4j.models.nn;

import java.nio.FloatBuffer;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;

/**
 * Heads out of a fused q/k/v projection, rotated and laid out for attention, in one pass computed in Java
 * ({@link JvmOps}): from {@code x [B·S, W]} (W = all heads' {@code headDim} columns side by side), {@code heads} heads
 * starting at {@code firstHead}, grouped {@code groups} per KV head, into {@code [B, heads/groups, groups·S, headDim]}:
 * {@code out[b, j, g·S + s] = rope(x[b·S + s, head (firstHead + j·groups + g)])}. The layouts of the decoders' attention
 * (queries stacked per KV head for grouped-query attention; keys and values {@code [B, KV, S, hd]} for the cache).
 * rope is HF's {@code rotate_half} form over the first {@code rotaryDim} dims ({@link Rotary}): {@code x·cos +
 * rotate_half(x)·sin} with {@code cos}, {@code sin [B·S, 1, headDim]} (cos 1 and sin 0 past the rotary dims), computed
 * in float32 as the graph computes {@code x·cos + (x R)·sin}: the same values to the bit. {@code rotaryDim} 0: no
 * rotation (values). Replaces a dozen graph ops per layer (slices, the rotation product, multiplies, reshapes,
 * permutes). One thread (as {@link NormOp}). Inference only, like every {@link JvmOps.Op}.
 */
public final class HeadsOp extends JvmOps.BaseOp {

  private int firstHead;
  private int heads;
  private int groups;
  private int headDim;
  private int rotaryDim;

  /** For ND4J's reflection only. */
  public HeadsOp() {}

  private HeadsOp(SameDiff sd, SDVariable[] inputs, int firstHead, int heads, int groups, int headDim, int rotaryDim) {
    super(sd, inputs);
    this.firstHead = firstHead;
    this.heads = heads;
    this.groups = groups;
    this.headDim = headDim;
    this.rotaryDim = rotaryDim;
  }

  /**
   * The heads {@code firstHead .. firstHead + heads - 1} of {@code x [B·S, W]} as {@code [B, heads/groups, groups·S,
   * headDim]}; {@code batchSeq} is the long vector {@code [B, S]}; {@code cos}, {@code sin} as {@link Rotary#cosSin}
   * gives them (read only when {@code rotaryDim > 0}).
   */
  public static SDVariable apply(SDVariable x, SDVariable batchSeq, SDVariable cos, SDVariable sin, int firstHead,
      int heads, int groups, int headDim, int rotaryDim) {
    if (firstHead < 0 || heads <= 0 || groups <= 0 || heads % groups != 0 || headDim <= 0 || rotaryDim < 0
        || rotaryDim > headDim || rotaryDim % 2 != 0) {
      throw new IllegalArgumentException("heads " + firstHead + "+" + heads + " in groups of " + groups + ", head dim "
          + headDim + ", rotary dim " + rotaryDim + " do not fit");
    }
    return new HeadsOp(x.getSameDiff(), new SDVariable[] {x, batchSeq, cos, sin}, firstHead, heads, groups, headDim,
        rotaryDim).outputVariable();
  }

  @Override
  public String opName() {
    return "pr4j_heads";
  }

  @Override
  protected LongShapeDescriptor outputShape(INDArray[] inputs) {
    INDArray x = inputs[0];
    INDArray bs = inputs[1];
    long b = bs.length() == 2 ? bs.getLong(0) : -1;
    long s = bs.length() == 2 ? bs.getLong(1) : -1;
    boolean fits = x.rank() == 2 && x.dataType() == DataType.FLOAT && b >= 0 && s >= 0 && x.size(0) == b * s
        && x.size(1) >= (long) (firstHead + heads) * headDim;
    if (fits && rotaryDim > 0) {
      for (int i = 2; i < 4; i++) {
        fits &= inputs[i].dataType() == DataType.FLOAT && inputs[i].length() == x.size(0) * headDim;
      }
    }
    if (!fits) {
      throw new IllegalArgumentException(getOwnName() + ": heads " + firstHead + ".." + (firstHead + heads - 1)
          + " of " + headDim + " from " + x.dataType() + java.util.Arrays.toString(x.shape()) + " with [B, S] = "
          + bs + (rotaryDim > 0 ? ", cos " + java.util.Arrays.toString(inputs[2].shape()) + ", sin "
          + java.util.Arrays.toString(inputs[3].shape()) : "") + " do not fit");
    }
    return LongShapeDescriptor.fromShape(new long[] {b, heads / groups, groups * s, headDim}, DataType.FLOAT);
  }

  @Override
  public void compute(INDArray[] inputs, INDArray[] outputs) {
    int b = (int) inputs[1].getLong(0);
    int s = (int) inputs[1].getLong(1);
    INDArray[] read = rotaryDim > 0 ? new INDArray[] {inputs[0], inputs[2], inputs[3]} : new INDArray[] {inputs[0]};
    JvmOps.onPlain(read, outputs[0], (in, target) -> {
      int width = (int) in[0].size(1);
      FloatBuffer src = in[0].data().asNioFloat();
      FloatBuffer dst = target.data().asNioFloat();
      FloatBuffer cos = rotaryDim > 0 ? in[1].data().asNioFloat() : null;
      FloatBuffer sin = rotaryDim > 0 ? in[2].data().asNioFloat() : null;
      for (int n = 0; n < b * s; n++) {
        token(src, dst, cos, sin, n / s, n % s, s, width);
      }
    });
  }

  private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[4][0]);

  /** Token {@code (b, s)}: every head of it. */
  private void token(FloatBuffer src, FloatBuffer dst, FloatBuffer cos, FloatBuffer sin, int b, int s, int seq,
      int width) {
    float[][] scratch = SCRATCH.get();
    if (scratch[0].length < width || scratch[1].length < headDim) {
      scratch[0] = new float[Math.max(width, scratch[0].length)];
      for (int i = 1; i < 4; i++) {
        scratch[i] = new float[Math.max(headDim, scratch[i].length)];
      }
    }
    float[] row = scratch[0];
    float[] c = scratch[1];
    float[] sn = scratch[2];
    float[] y = scratch[3];
    int n = b * seq + s;
    src.get(n * width + firstHead * headDim, row, 0, heads * headDim);
    if (rotaryDim > 0) {
      cos.get(n * headDim, c, 0, headDim);
      sin.get(n * headDim, sn, 0, headDim);
    }
    int half = rotaryDim / 2;
    int kvHeads = heads / groups;
    for (int h = 0; h < heads; h++) {
      int base = h * headDim;
      float[] from = row;
      int at = base;
      if (rotaryDim > 0) {
        for (int d = 0; d < headDim; d++) {
          float rotated = d < half ? -row[base + d + half] : d < rotaryDim ? row[base + d - half] : 0f;
          y[d] = row[base + d] * c[d] + rotated * sn[d];
        }
        from = y;
        at = 0;
      }
      int j = h / groups;
      int g = h % groups;
      long offset = (((long) b * kvHeads + j) * groups * seq + (long) g * seq + s) * headDim;
      dst.put((int) offset, from, at, headDim);
    }
  }
}
