package org.promptrecovery4j.models.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The GEMM benchmark on small shapes: every shape, row count and layout timed, the layouts giving the same product
 * (also on oneDNN 3.3's packed weight where it runs).
 */
class GemmBenchTest {

  @Test
  void timesEveryShapeInBothLayoutsAndTheyAgree() {
    int[][] shapes = {{64, 96}, {96, 64}};
    int[] rows = {1, 16, 512};
    for (DataType d : new DataType[] {DataType.FLOAT, DataType.BFLOAT16}) {
      List<GemmBench.Result> r = GemmBench.run(d, true, 3, shapes, rows); // throws if the layouts disagree
      boolean packed = d == DataType.BFLOAT16 ? org.promptrecovery4j.models.nn.OneDnn.available()
          : org.promptrecovery4j.models.nn.OneDnn.loaded();
      assertThat(r).hasSize(2 * 3 * (packed ? 3 : 2));
      assertThat(r).allSatisfy(x -> assertThat(x.medianMs()).isPositive());
      assertThat(r).extracting(GemmBench.Result::layout).containsOnly(packed
          ? new String[] {"out-in-transposed", "in-out", "packed-onednn3"} : new String[] {"out-in-transposed", "in-out"});
      assertThat(r).extracting(GemmBench.Result::dtype).containsOnly(d == DataType.FLOAT ? "float32" : "bf16");
    }
    assertThat(GemmBench.run(DataType.FLOAT, false, 3, shapes, new int[] {4})).hasSize(4);
  }
}
