package org.promptrecovery4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;

/**
 * A graph op computed in Java: the gated MLP {@code down(act(x gate) · (x up))} of Llama, Mistral and Gemma on weights
 * packed by {@link OneDnn#pack}, in one call ({@link OneDnn#gatedMlp}: the activation and the multiplication are
 * post-ops of the gate and up products, so the {@code [M, I]} intermediates are never passes of their own). float32
 * {@code x [M, H]} → float32 {@code [M, H]}; the three packed arrays are the op's other inputs, so the graph holds them.
 * Inference only, like {@link PackedLinearOp}. Computed in Java ({@link JvmOps}).
 */
public final class PackedGatedMlpOp extends JvmOps.BaseOp {

  private OneDnn.PackedWeight gate;
  private OneDnn.PackedWeight up;
  private OneDnn.PackedWeight down;
  private String activation;

  /** For ND4J's reflection only. */
  public PackedGatedMlpOp() {}

  private PackedGatedMlpOp(SameDiff sd, SDVariable x, SDVariable[] packed, OneDnn.PackedWeight[] weights,
      String activation) {
    super(sd, new SDVariable[] {x, packed[0], packed[1], packed[2]});
    this.gate = weights[0];
    this.up = weights[1];
    this.down = weights[2];
    this.activation = activation;
  }

  /**
   * {@code x [M, H]} through the gated MLP whose gate, up and down weights are bound as {@code packed} (in that order)
   * and packed as {@code weights}, with the HF activation {@code activation} ({@link OneDnn#activation} must know it).
   */
  public static SDVariable apply(SDVariable x, SDVariable[] packed, OneDnn.PackedWeight[] weights, String activation) {
    if (packed.length != 3 || weights.length != 3 || OneDnn.activation(activation) == null) {
      throw new IllegalArgumentException("a packed gated MLP takes gate, up and down weights and a oneDNN activation, got "
          + packed.length + " variables, " + weights.length + " weights and '" + activation + "'");
    }
    return new PackedGatedMlpOp(x.getSameDiff(), x, packed, weights, activation).outputVariable();
  }

  @Override
  public String opName() {
    return "pr4j_packed_gated_mlp";
  }

  @Override
  protected LongShapeDescriptor outputShape(INDArray[] inputs) {
    INDArray x = inputs[0];
    if (x.rank() != 2 || x.size(1) != gate.k()) {
      throw new IllegalArgumentException(getOwnName() + ": input " + java.util.Arrays.toString(x.shape())
          + " does not fit a gated MLP of hidden size " + gate.k());
    }
    return LongShapeDescriptor.fromShape(new long[] {x.size(0), down.n()}, DataType.FLOAT);
  }

  @Override
  public void compute(INDArray[] inputs, INDArray[] outputs) {
    OneDnn.gatedMlp(inputs[0], gate, up, down, activation, outputs[0]);
  }
}
