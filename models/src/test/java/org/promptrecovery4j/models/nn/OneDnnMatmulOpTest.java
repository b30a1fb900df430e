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

/** The attention products through oneDNN 3.3 ({@link OneDnnMatmulOp}) against ND4J's batched {@code mmul}. */
class OneDnnMatmulOpTest {

  @BeforeAll
  static void needsOneDnn() {
    Assumptions.assumeTrue(OneDnn.loaded(), "oneDNN 3.3 not usable here: " + OneDnn.unusableReason());
  }

  private static double maxRel(INDArray got, INDArray expected) {
    double scale = Math.max(1, Transforms.abs(expected, true).maxNumber().doubleValue());
    return Transforms.abs(got.sub(expected), false).maxNumber().doubleValue() / scale;
  }

  @Test
  void batchedProductsEqualNd4jsMmul() {
    Nd4j.getRandom().setSeed(3);
    // [B, KV, G·S, hd] x [B, KV, T, hd]ᵀ: decode (G·S = 1, 4) and prefill shapes; then p [.., G·S, T] x v [.., T, hd]
    long[][] shapes = {{1, 32, 1, 80, 7}, {16, 8, 4, 128, 65}, {2, 3, 12, 16, 12}, {1, 1, 1, 1, 1}};
    for (long[] s : shapes) {
      INDArray q = Nd4j.randn(DataType.FLOAT, s[0], s[1], s[2], s[3]);
      INDArray k = Nd4j.randn(DataType.FLOAT, s[0], s[1], s[4], s[3]);
      INDArray scores = Nd4j.createUninitialized(DataType.FLOAT, s[0], s[1], s[2], s[4]);
      OneDnn.matmul(q, k, true, scores);
      INDArray expected = Nd4j.matmul(q, k, false, true, false);
      assertThat(maxRel(scores, expected)).as("q kᵀ %s", java.util.Arrays.toString(s)).isLessThanOrEqualTo(1e-5);
      INDArray context = Nd4j.createUninitialized(DataType.FLOAT, s[0], s[1], s[2], s[3]);
      OneDnn.matmul(scores, k, false, context);
      assertThat(maxRel(context, Nd4j.matmul(scores, k))).as("p v %s", java.util.Arrays.toString(s)).isLessThanOrEqualTo(1e-5);
    }
  }

  /**
   * A decode's key length grows by one each step and prefills have many query rows: 80 shapes interleaved, more than
   * a thread keeps plans for (older ones are closed as new ones come), each product still equal to ND4J's.
   */
  @Test
  void everyKeyLengthAndRowCountAsPlansComeAndGo() {
    Nd4j.getRandom().setSeed(5);
    for (int t = 1; t <= 40; t++) {
      for (long rows : new long[] {1, t % 7 + 2}) {
        INDArray q = Nd4j.randn(DataType.FLOAT, 2, 4, rows, 16);
        INDArray k = Nd4j.randn(DataType.FLOAT, 2, 4, t, 16);
        INDArray scores = Nd4j.createUninitialized(DataType.FLOAT, 2, 4, rows, t);
        OneDnn.matmul(q, k, true, scores);
        assertThat(maxRel(scores, Nd4j.matmul(q, k, false, true, false))).as("T=%d rows=%d", t, rows).isLessThanOrEqualTo(1e-5);
        INDArray context = Nd4j.createUninitialized(DataType.FLOAT, 2, 4, rows, 16);
        OneDnn.matmul(scores, k, false, context);
        assertThat(maxRel(context, Nd4j.matmul(scores, k))).as("p v T=%d rows=%d", t, rows).isLessThanOrEqualTo(1e-5);
      }
    }
  }

  @Test
  void viewsAndMismatchedShapes() {
    INDArray big = Nd4j.randn(DataType.FLOAT, 2, 3, 8, 10);
    INDArray a = big.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all(),
        org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 5), org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 8));
    INDArray b = Nd4j.randn(DataType.FLOAT, 2, 3, 6, 5);
    INDArray out = Nd4j.create(DataType.FLOAT, new long[] {2, 3, 4, 5}, 'f');
    OneDnn.matmul(a, b, false, out);
    assertThat(maxRel(out, Nd4j.matmul(a.dup(), b))).isLessThanOrEqualTo(1e-5);
    // empty sizes never reach oneDNN
    OneDnn.matmul(Nd4j.create(DataType.FLOAT, 2, 0, 6), Nd4j.rand(DataType.FLOAT, 2, 6, 3), false, Nd4j.create(DataType.FLOAT, 2, 0, 3));
    INDArray zeroK = Nd4j.rand(DataType.FLOAT, 2, 4, 3);
    OneDnn.matmul(Nd4j.create(DataType.FLOAT, 2, 4, 0), Nd4j.create(DataType.FLOAT, 2, 0, 3), false, zeroK);
    assertThat(zeroK.sumNumber().doubleValue()).isZero();
    assertThatThrownBy(() -> OneDnn.matmul(Nd4j.rand(DataType.FLOAT, 2, 4, 6), Nd4j.rand(DataType.FLOAT, 2, 5, 3), false,
        Nd4j.create(DataType.FLOAT, 2, 4, 3)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[2, 4, 6]").hasMessageContaining("[2, 5, 3]");
    assertThatThrownBy(() -> OneDnn.matmul(Nd4j.rand(DataType.FLOAT, 4, 6), Nd4j.rand(DataType.DOUBLE, 6, 3), false,
        Nd4j.create(DataType.FLOAT, 4, 3))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("DOUBLE");
  }

  /** In a graph: the same values as {@code sd.mmul}, for both forms. */
  @Test
  void graphOpEqualsSdMmul() {
    for (boolean transposeB : new boolean[] {true, false}) {
      SameDiff sd = SameDiff.create();
      SDVariable a = sd.placeHolder("a", DataType.FLOAT, -1, 3, 4, 5);
      SDVariable b = sd.placeHolder("b", DataType.FLOAT, -1, 3, transposeB ? 6 : 5, transposeB ? 5 : 6);
      SDVariable fast = OneDnnMatmulOp.apply(a, b, transposeB).add(0.5);
      SDVariable plain = sd.mmul(a, b, false, transposeB, false).add(0.5);
      for (int batch : new int[] {2, 1, 3}) {
        Map<String, INDArray> feed = Map.of("a", Nd4j.randn(DataType.FLOAT, batch, 3, 4, 5),
            "b", Nd4j.randn(DataType.FLOAT, batch, 3, transposeB ? 6 : 5, transposeB ? 5 : 6));
        Map<String, INDArray> out = sd.output(feed, fast.name(), plain.name());
        assertThat(out.get(fast.name()).shape()).containsExactly(batch, 3, 4, 6);
        assertThat(maxRel(out.get(fast.name()), out.get(plain.name()))).isLessThanOrEqualTo(1e-5);
      }
    }
  }
}
