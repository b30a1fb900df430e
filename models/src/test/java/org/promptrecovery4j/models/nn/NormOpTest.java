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
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * {@link NormOp} against {@link Norms} (ND4J's ops): the same float32 operations with the sums in another order, so
 * within 1e-6 of the output's scale.
 */
class NormOpTest {

  @BeforeAll
  static void needsJavaOps() {
    Assumptions.assumeTrue(ConcatOp.available(), "ops computed in Java need ND4J's CPU backend");
  }

  @Test
  void equalsTheGraphForms() {
    Nd4j.getRandom().setSeed(21);
    // a decode row, odd widths, a 3-D input, a prefill; an offset mean for LayerNorm's centring
    for (long[] shape : new long[][] {{1, 4096}, {5, 33}, {7, 3}, {2, 3, 40}, {300, 2560}}) {
      SameDiff sd = SameDiff.create();
      long[] free = shape.clone();
      free[0] = -1;
      int last = shape.length - 1;
      SDVariable x = sd.placeHolder("x", DataType.FLOAT, free);
      SDVariable w = sd.constant("w", Nd4j.randn(DataType.FLOAT, shape[last]).addi(1));
      SDVariable b = sd.constant("b", Nd4j.randn(DataType.FLOAT, shape[last]));
      String[] names = {NormOp.rms(x, w, 1e-6).name(), Norms.rmsNorm(x, w, 1e-6, last).name(),
          NormOp.layer(x, w, b, 1e-5).name(), Norms.layerNorm(x, w, b, 1e-5, last).name()};
      INDArray in = Nd4j.randn(DataType.FLOAT, shape).muli(3).addi(0.5);
      Map<String, INDArray> out = sd.output(Map.of("x", in), names);
      for (int i = 0; i < 4; i += 2) {
        INDArray expected = out.get(names[i + 1]);
        double scale = Transforms.abs(expected, true).maxNumber().doubleValue();
        assertThat(out.get(names[i]).shape()).containsExactly(shape);
        assertThat(out.get(names[i]).sub(expected).amaxNumber().doubleValue())
            .as("%s %s", i == 0 ? "RMSNorm" : "LayerNorm", java.util.Arrays.toString(shape))
            .isLessThanOrEqualTo(1e-6 * Math.max(1, scale));
      }
    }
  }

  @Test
  void viewsAndBadParameters() {
    INDArray big = Nd4j.randn(DataType.FLOAT, 6, 10);
    INDArray view = big.get(NDArrayIndex.interval(1, 4), NDArrayIndex.interval(2, 9));
    INDArray w = Nd4j.ones(DataType.FLOAT, 7);
    INDArray out = Nd4j.create(DataType.FLOAT, new long[] {3, 7}, 'f');
    NormOp.apply(new INDArray[] {view, w}, 1e-5, false, out);
    INDArray copy = view.dup();
    INDArray expected = copy.divColumnVector(Transforms.sqrt(copy.mul(copy).mean(true, 1).addi(1e-5), false));
    assertThat(out.sub(expected).amaxNumber().doubleValue()).isLessThanOrEqualTo(1e-6);
    SameDiff sd = SameDiff.create();
    SDVariable y = NormOp.rms(sd.constant(Nd4j.rand(DataType.FLOAT, 2, 5)), sd.constant(Nd4j.ones(DataType.FLOAT, 4)), 1e-6);
    assertThatThrownBy(y::eval).hasMessageContaining("RMSNorm").hasMessageContaining("[2, 5]").hasMessageContaining("[4]");
    SDVariable z = NormOp.layer(sd.constant(Nd4j.rand(DataType.FLOAT, 2, 5)), sd.constant(Nd4j.ones(DataType.FLOAT, 5)),
        sd.constant(Nd4j.ones(DataType.DOUBLE, 5)), 1e-6);
    assertThatThrownBy(z::eval).hasMessageContaining("LayerNorm").hasMessageContaining("bias DOUBLE[5]");
  }
}
