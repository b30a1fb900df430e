package org.promptrecovery4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;

/**
 * A float32 batched matrix product as one oneDNN 3.3 call ({@link OneDnn#matmul}), computed in Java ({@link JvmOps}):
 * the attention products of the decoders ({@code q kᵀ} and {@code p v} per head). ND4J's batched {@code mmul} makes
 * one BLAS call per head and matrix, and MKL's OpenMP threads then spin after each one, taking the cores from the
 * ops that follow. Inference only: SameDiff M2.1 builds gradients on a copy of the graph made through FlatBuffers,
 * which knows only ND4J's ops, so graphs for training use {@code mmul} ({@code DecoderOptions.differentiable}).
 */
public final class OneDnnMatmulOp extends JvmOps.BaseOp {

  private boolean transposeB;

  /** For ND4J's reflection only. */
  public OneDnnMatmulOp() {}

  private OneDnnMatmulOp(SameDiff sd, SDVariable a, SDVariable b, boolean transposeB) {
    super(sd, new SDVariable[] {a, b});
    this.transposeB = transposeB;
  }

  /** {@code a b} ({@code a bᵀ} if {@code transposeB}) over the last two axes, as {@code sd.mmul(a, b, false, transposeB, false)}. */
  public static SDVariable apply(SDVariable a, SDVariable b, boolean transposeB) {
    return new OneDnnMatmulOp(a.getSameDiff(), a, b, transposeB).outputVariable();
  }

  @Override
  public String opName() {
    return "pr4j_onednn_matmul";
  }

  @Override
  protected LongShapeDescriptor outputShape(INDArray[] inputs) {
    INDArray a = inputs[0];
    INDArray b = inputs[1];
    int r = a.rank();
    if (r < 2 || b.rank() != r) {
      throw new IllegalArgumentException(getOwnName() + ": ranks " + r + " and " + b.rank() + " do not fit");
    }
    long[] shape = a.shape().clone();
    shape[r - 1] = b.size(transposeB ? r - 2 : r - 1);
    return LongShapeDescriptor.fromShape(shape, DataType.FLOAT);
  }

  @Override
  public void compute(INDArray[] inputs, INDArray[] outputs) {
    OneDnn.matmul(inputs[0], inputs[1], transposeB, outputs[0]);
  }
}
