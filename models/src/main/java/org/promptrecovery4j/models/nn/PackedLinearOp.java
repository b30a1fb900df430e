package org.promptrecovery4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;

/**
 * A graph op computed in Java: {@code y [M, N] = x W} for float32 {@code x [M, K]} and a weight packed by
 * {@link OneDnn#pack} (its array is the op's second input, so the graph holds it): {@code bf16(bf16(x) W)} for a bf16
 * weight ({@code --compute bf16}), a float32 product for a float32 one. Inference only: it has no gradient, and the
 * models use it only for frozen weights of graphs not built for training.
 * Computed in Java ({@link JvmOps}).
 */
public final class PackedLinearOp extends JvmOps.BaseOp {

  private OneDnn.PackedWeight weight;

  /** For ND4J's reflection only. */
  public PackedLinearOp() {}

  private PackedLinearOp(SameDiff sd, SDVariable x, SDVariable packed, OneDnn.PackedWeight weight) {
    super(sd, new SDVariable[] {x, packed});
    this.weight = weight;
  }

  /** {@code x [M, K]} (float32) times the packed weight bound as {@code packed}: {@code [M, N]} float32. */
  public static SDVariable apply(SDVariable x, SDVariable packed, OneDnn.PackedWeight weight) {
    return new PackedLinearOp(x.getSameDiff(), x, packed, weight).outputVariable();
  }

  @Override
  public String opName() {
    return "pr4j_packed_linear";
  }

  @Override
  protected LongShapeDescriptor outputShape(INDArray[] inputs) {
    INDArray x = inputs[0];
    if (x.rank() != 2 || x.size(1) != weight.k()) {
      throw new IllegalArgumentException(getOwnName() + ": input " + java.util.Arrays.toString(x.shape())
          + " does not fit a [" + weight.k() + ", " + weight.n() + "] weight");
    }
    return LongShapeDescriptor.fromShape(new long[] {x.size(0), weight.n()}, DataType.FLOAT);
  }

  @Override
  public void compute(INDArray[] inputs, INDArray[] outputs) {
    OneDnn.multiply(inputs[0], weight, outputs[0]);
  }
}
