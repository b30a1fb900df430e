package org.promptrecovery4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;

/**
 * An HF activation ({@code ACT2FN} name) as one graph op: oneDNN 3.3's eltwise primitive ({@link OneDnn#activate}),
 * computed in Java ({@link JvmOps}), in place of the five to eight ND4J ops {@link Activations} builds it from (gelu_new:
 * a tanh, three multiplies, two adds, two scalar products). float32 in and out, the same formula; oneDNN's tanh and erf
 * differ from ND4J's by float32 rounding. Inference only, like every {@link JvmOps.Op}.
 */
public final class ActivationOp extends JvmOps.BaseOp {

  private String activation;

  /** For ND4J's reflection only. */
  public ActivationOp() {}

  private ActivationOp(SameDiff sd, SDVariable x, String activation) {
    super(sd, new SDVariable[] {x});
    this.activation = activation;
  }

  /** {@code activation(x)} element-wise; {@link OneDnn#activation} must know the name. */
  public static SDVariable apply(String activation, SDVariable x) {
    if (OneDnn.activation(activation) == null) {
      throw new IllegalArgumentException("no oneDNN eltwise algorithm for the activation '" + activation + "'");
    }
    return new ActivationOp(x.getSameDiff(), x, activation).outputVariable();
  }

  @Override
  public String opName() {
    return "pr4j_activation";
  }

  @Override
  protected LongShapeDescriptor outputShape(INDArray[] inputs) {
    INDArray x = inputs[0];
    if (x.dataType() != DataType.FLOAT) {
      throw new IllegalArgumentException(getOwnName() + ": " + activation + " of " + x.dataType()
          + java.util.Arrays.toString(x.shape()) + " (float32 expected)");
    }
    return LongShapeDescriptor.fromShape(x.shape(), DataType.FLOAT);
  }

  @Override
  public void compute(INDArray[] inputs, INDArray[] outputs) {
    OneDnn.activate(inputs[0], activation, outputs[0]);
  }
}
