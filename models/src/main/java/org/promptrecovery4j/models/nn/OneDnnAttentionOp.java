package org.promptrecovery4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;

/**
 * Scaled dot-product attention as one graph op computed in Java ({@link JvmOps}): {@code softmax(q kᵀ · scale + bias)
 * v} per (row, KV head) in four oneDNN 3.3 calls ({@link OneDnn#attention}: the products, the scale and the additive
 * mask in one pass, the softmax in place; the scores never a graph array). The decoders' attention where the graph is not for
 * training; SameDiff M2.1 builds gradients on a copy of the graph made through FlatBuffers, which knows only ND4J's
 * ops, so graphs for training use ND4J's {@code mmul} and {@code softmax}.
 */
public final class OneDnnAttentionOp extends JvmOps.BaseOp {

  private double scale;

  /** For ND4J's reflection only. */
  public OneDnnAttentionOp() {}

  private OneDnnAttentionOp(SameDiff sd, SDVariable q, SDVariable keys, SDVariable values, SDVariable bias,
      double scale) {
    super(sd, new SDVariable[] {q, keys, values, bias});
    this.scale = scale;
  }

  /**
   * {@code q [B, KV, Q, D]}, {@code keys} and {@code values [B, KV, T, D]}, {@code bias [B, 1, Q, T]} →
   * {@code [B, KV, Q, D]}.
   */
  public static SDVariable apply(SDVariable q, SDVariable keys, SDVariable values, SDVariable bias, double scale) {
    return new OneDnnAttentionOp(q.getSameDiff(), q, keys, values, bias, scale).outputVariable();
  }

  @Override
  public String opName() {
    return "pr4j_onednn_attention";
  }

  @Override
  protected LongShapeDescriptor outputShape(INDArray[] inputs) {
    INDArray q = inputs[0];
    if (q.rank() != 4) {
      throw new IllegalArgumentException(getOwnName() + ": queries " + java.util.Arrays.toString(q.shape())
          + " are not [B, KV, Q, D]");
    }
    return LongShapeDescriptor.fromShape(q.shape(), DataType.FLOAT);
  }

  @Override
  public void compute(INDArray[] inputs, INDArray[] outputs) {
    OneDnn.attention(inputs[0], inputs[1], inputs[2], inputs[3], scale, outputs[0]);
  }
}
