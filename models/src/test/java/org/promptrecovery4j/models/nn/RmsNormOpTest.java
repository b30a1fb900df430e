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
import org.nd4j.linalg.ops.transforms.Transforms;

/** {@link RmsNormOp} against {@link Norms#rmsNorm} (ND4J's ops): float32 sums in another order, so within 1e-6 relative. */
class RmsNormOpTest {

  @BeforeAll
  static void needsJavaOps() {
    Assumptions.assumeTrue(ConcatOp.available(), "ops computed in Java need ND4J's CPU backend");
  }

  @Test
  void equalsTheGraphForm() {
    Nd4j.getRandom().setSeed(21);
    // a decode row, odd widths, and a prefill big enough to share rows between threads
    for (long[] shape : new long[][] {{1, 4096}, {5, 33}, {7, 3}, {2, 3, 40}, {300, 4096}}) {
      SameDiff sd = SameDiff.create();
      long[] free = shape.clone();
      free[0] = -1;
      SDVariable x = sd.placeHolder("x", DataType.FLOAT, free);
      SDVariable w = sd.constant("w", Nd4j.randn(DataType.FLOAT, shape[shape.length - 1]).addi(1));
      SDVariable fast = RmsNormOp.apply(x, w, 1e-6);
      SDVariable graph = Norms.rmsNorm(x, w, 1e-6, shape.length - 1);
      INDArray in = Nd4j.randn(DataType.FLOAT, shape).muli(3);
      Map<String, INDArray> out = sd.output(Map.of("x", in), fast.name(), graph.name());
      INDArray expected = out.get(graph.name());
      double scale = Transforms.abs(expected, true).maxNumber().doubleValue();
      assertThat(out.get(fast.name()).shape()).containsExactly(shape);
      assertThat(out.get(fast.name()).sub(expected).amaxNumber().doubleValue())
          .as(java.util.Arrays.toString(shape)).isLessThanOrEqualTo(1e-6 * Math.max(1, scale));
    }
  }

  @Test
  void viewsAndBadWeights() {
    INDArray big = Nd4j.randn(DataType.FLOAT, 6, 10);
    INDArray view = big.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 4), org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 9));
    INDArray w = Nd4j.ones(DataType.FLOAT, 7);
    INDArray out = Nd4j.create(DataType.FLOAT, new long[] {3, 7}, 'f');
    RmsNormOp.apply(view, w, 1e-5, out);
    INDArray copy = view.dup();
    INDArray expected = copy.divColumnVector(Transforms.sqrt(copy.mul(copy).mean(true, 1).addi(1e-5), false));
    assertThat(out.sub(expected).amaxNumber().doubleValue()).isLessThanOrEqualTo(1e-6);
    SameDiff sd = SameDiff.create();
    SDVariable y = RmsNormOp.apply(sd.constant(Nd4j.rand(DataType.FLOAT, 2, 5)), sd.constant(Nd4j.ones(DataType.FLOAT, 4)), 1e-6);
    assertThatThrownBy(y::eval).hasMessageContaining("[2, 5]").hasMessageContaining("[4]");
  }
}
