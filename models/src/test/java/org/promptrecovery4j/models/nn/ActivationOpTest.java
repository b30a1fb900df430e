package org.promptrecovery4j.models.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** {@link ActivationOp} (oneDNN's eltwise) against {@link Activations} (ND4J's ops, verified against HF): within float32 rounding. */
class ActivationOpTest {

  @BeforeAll
  static void needsOneDnn() {
    Assumptions.assumeTrue(OneDnn.loaded(), "oneDNN 3.3 not usable here: " + OneDnn.unusableReason());
  }

  @Test
  void equalsTheGraphForms() {
    Nd4j.getRandom().setSeed(31);
    for (String act : new String[] {"gelu_new", "gelu_pytorch_tanh", "gelu", "silu", "relu"}) {
      for (long[] shape : new long[][] {{1, 10240}, {7, 33}, {2, 3, 5}}) {
        SameDiff sd = SameDiff.create();
        long[] free = shape.clone();
        free[0] = -1;
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, free);
        String fast = ActivationOp.apply(act, x).name();
        String graph = Activations.apply(act, x).name();
        Map<String, INDArray> out = sd.output(Map.of("x", Nd4j.randn(DataType.FLOAT, shape).muli(4)), fast, graph);
        assertThat(out.get(fast).shape()).containsExactly(shape);
        assertThat(out.get(fast).sub(out.get(graph)).amaxNumber().doubleValue())
            .as("%s %s", act, java.util.Arrays.toString(shape)).isLessThanOrEqualTo(1e-5);
      }
    }
  }

  @Test
  void viewsAndBadInputs() {
    INDArray big = Nd4j.randn(DataType.FLOAT, 6, 10);
    INDArray view = big.get(NDArrayIndex.interval(1, 4), NDArrayIndex.interval(2, 9));
    INDArray out = Nd4j.create(DataType.FLOAT, new long[] {3, 7}, 'f');
    OneDnn.activate(view, "relu", out);
    assertThat(out.sub(org.nd4j.linalg.ops.transforms.Transforms.relu(view.dup(), true)).amaxNumber().doubleValue()).isZero();
    assertThatThrownBy(() -> ActivationOp.apply("mish", SameDiff.create().constant(Nd4j.rand(DataType.FLOAT, 2))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'mish'");
    assertThatThrownBy(() -> OneDnn.activate(Nd4j.rand(DataType.FLOAT, 4), "relu", Nd4j.create(DataType.FLOAT, 5)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[4]").hasMessageContaining("[5]");
  }
}
