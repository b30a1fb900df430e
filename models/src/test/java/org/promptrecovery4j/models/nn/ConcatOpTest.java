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

/** The KV cache's block-copy concat ({@link ConcatOp}) against ND4J's {@code concat}: exactly equal. */
class ConcatOpTest {

  @BeforeAll
  static void needsJavaOps() {
    Assumptions.assumeTrue(ConcatOp.available(), "ops computed in Java do not run on this backend");
  }

  @Test
  void blockCopiesEqualNd4jsConcatOnEveryAxis() {
    long[][] pairs = {{1, 8, 64, 128, 1}, {16, 8, 70, 128, 1}, {2, 3, 0, 4, 5}, {2, 3, 5, 4, 7}};
    for (long[] p : pairs) {
      INDArray past = p[2] == 0 ? Nd4j.create(DataType.FLOAT, p[0], p[1], 0, p[3]) : Nd4j.rand(DataType.FLOAT, p[0], p[1], p[2], p[3]);
      INDArray step = Nd4j.rand(DataType.FLOAT, p[0], p[1], p[4], p[3]);
      INDArray out = Nd4j.createUninitialized(DataType.FLOAT, p[0], p[1], p[2] + p[4], p[3]);
      ConcatOp.join(past, step, 2, out);
      INDArray expected = p[2] == 0 ? step : Nd4j.concat(2, past, step);
      assertThat(out).as(java.util.Arrays.toString(p)).isEqualTo(expected);
    }
    INDArray a = Nd4j.rand(DataType.FLOAT, 3, 4, 5);
    INDArray b = Nd4j.rand(DataType.FLOAT, 3, 4, 2);
    for (int axis = 0; axis < 3; axis++) {
      INDArray bb = axis == 2 ? b : axis == 1 ? Nd4j.rand(DataType.FLOAT, 3, 2, 5) : Nd4j.rand(DataType.FLOAT, 2, 4, 5);
      long[] s = a.shape().clone();
      s[axis] += bb.size(axis);
      INDArray out = Nd4j.createUninitialized(DataType.FLOAT, s);
      ConcatOp.join(a, bb, axis, out);
      assertThat(out).as("axis %d", axis).isEqualTo(Nd4j.concat(axis, a, bb));
    }
    // a permuted view (the step's keys come out of a permute) is copied first
    INDArray view = Nd4j.rand(DataType.FLOAT, 1, 1, 8, 4).permute(0, 2, 1, 3);
    INDArray past = Nd4j.rand(DataType.FLOAT, 1, 8, 3, 4);
    INDArray out = Nd4j.createUninitialized(DataType.FLOAT, 1, 8, 4, 4);
    ConcatOp.join(past, view, 2, out);
    assertThat(out).isEqualTo(Nd4j.concat(2, past, view.dup('c')));
  }

  @Test
  void inAGraphItEqualsSdConcatAndNamesItsMismatches() {
    SameDiff sd = SameDiff.create();
    SDVariable past = sd.placeHolder("past", DataType.FLOAT, -1, 2, -1, 4);
    SDVariable step = sd.placeHolder("step", DataType.FLOAT, -1, 2, -1, 4);
    SDVariable fast = ConcatOp.apply(2, past, step).rename("present");
    SDVariable plain = sd.concat("plain", 2, past, step);
    for (long p : new long[] {0, 3, 9}) {
      Map<String, INDArray> feed = Map.of("past", p == 0 ? Nd4j.create(DataType.FLOAT, 2, 2, 0, 4) : Nd4j.rand(DataType.FLOAT, 2, 2, p, 4),
          "step", Nd4j.rand(DataType.FLOAT, 2, 2, 1, 4));
      Map<String, INDArray> out = sd.output(feed, "present", "plain");
      assertThat(out.get("present")).isEqualTo(out.get("plain"));
    }
    assertThat(fast.name()).isEqualTo("present");
    // shape vectors: longs, several parts
    SDVariable dyn = sd.placeHolder("dyn", DataType.LONG, 1);
    SDVariable shape = ConcatOp.apply(0, dyn, sd.constant(Nd4j.createFromArray(8L)), dyn, sd.constant(Nd4j.createFromArray(128L)));
    INDArray got = sd.output(Map.of("dyn", Nd4j.createFromArray(3L)), shape.name()).get(shape.name());
    assertThat(got).isEqualTo(Nd4j.createFromArray(3L, 8L, 3L, 128L));
    assertThatThrownBy(() -> sd.output(Map.of("past", Nd4j.rand(DataType.FLOAT, 2, 2, 3, 4), "step",
        Nd4j.rand(DataType.FLOAT, 2, 2, 1, 5)), "present")).hasStackTraceContaining("cannot join FLOAT[2, 2, 3, 4] and FLOAT[2, 2, 1, 5] along axis 2");
  }
}
