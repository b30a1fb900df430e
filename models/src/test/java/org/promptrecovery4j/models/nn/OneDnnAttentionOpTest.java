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
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The decoders' attention through oneDNN 3.3 ({@link OneDnnAttentionOp}: {@code softmax(q kᵀ · scale + bias) v}) against
 * the same computed with ND4J's ops ({@code mmul}, {@code mul}, {@code add}, {@code softmax}, {@code mmul}).
 */
class OneDnnAttentionOpTest {

  @BeforeAll
  static void needsOneDnn() {
    Assumptions.assumeTrue(OneDnn.loaded(), "oneDNN 3.3 not usable here: " + OneDnn.unusableReason());
  }

  private static double maxRel(INDArray got, INDArray expected) {
    double scale = Math.max(1, Transforms.abs(expected, true).maxNumber().doubleValue());
    return Transforms.abs(got.sub(expected), false).maxNumber().doubleValue() / scale;
  }

  /** ND4J's ops: q [B, KV, Q, D], k and v [B, KV, T, D], bias [B, 1, Q, T]. */
  private static INDArray reference(INDArray q, INDArray k, INDArray v, INDArray bias, double scale) {
    INDArray scores = Nd4j.matmul(q, k, false, true, false).muli(scale)
        .addi(bias.broadcast(q.size(0), q.size(1), q.size(2), k.size(2)));
    return Nd4j.matmul(Nd4j.exec(new SoftMax(scores, 3))[0], v);
  }

  /** A causal mask over T keys of which the last Q are the queries' own, as the decoders build it; -1e9 masks. */
  private static INDArray causalBias(long b, long q, long t) {
    INDArray bias = Nd4j.zeros(DataType.FLOAT, b, 1, q, t);
    for (long i = 0; i < q; i++) {
      for (long j = t - q + i + 1; j < t; j++) {
        for (long r = 0; r < b; r++) {
          bias.putScalar(new long[] {r, 0, i, j}, -1e9);
        }
      }
    }
    return bias;
  }

  private static INDArray attention(INDArray q, INDArray k, INDArray v, INDArray bias, double scale) {
    INDArray out = Nd4j.createUninitialized(DataType.FLOAT, q.shape());
    OneDnn.attention(q, k, v, bias, scale, out);
    return out;
  }

  @Test
  void equalsNd4jsOps() {
    Nd4j.getRandom().setSeed(3);
    // {B, KV, Q, D, T}: decode at batch 1 and 16 (Q = G·S = 1, 4), a prefill, odd sizes, a single element
    long[][] shapes = {{1, 32, 1, 80, 7}, {16, 8, 4, 128, 65}, {1, 8, 4 * 12, 128, 12}, {2, 3, 12, 16, 12}, {1, 1, 1, 1, 1}};
    for (long[] s : shapes) {
      INDArray q = Nd4j.randn(DataType.FLOAT, s[0], s[1], s[2], s[3]);
      INDArray k = Nd4j.randn(DataType.FLOAT, s[0], s[1], s[4], s[3]);
      INDArray v = Nd4j.randn(DataType.FLOAT, s[0], s[1], s[4], s[3]);
      INDArray bias = s[2] <= s[4] ? causalBias(s[0], s[2], s[4]) : Nd4j.randn(DataType.FLOAT, s[0], 1, s[2], s[4]);
      double scale = 1 / Math.sqrt(s[3]);
      assertThat(maxRel(attention(q, k, v, bias, scale), reference(q, k, v, bias, scale)))
          .as(java.util.Arrays.toString(s)).isLessThanOrEqualTo(1e-5);
    }
  }

  /**
   * A decode's key length grows by one each step and prefills have many query rows: 80 shapes interleaved, more than
   * a thread keeps plans for (older ones are closed as new ones come), each still equal to ND4J's ops.
   */
  @Test
  void everyKeyLengthAndRowCountAsPlansComeAndGo() {
    Nd4j.getRandom().setSeed(5);
    for (int t = 1; t <= 40; t++) {
      for (long rows : new long[] {1, t % 7 + 2}) {
        INDArray q = Nd4j.randn(DataType.FLOAT, 2, 4, rows, 16);
        INDArray k = Nd4j.randn(DataType.FLOAT, 2, 4, t, 16);
        INDArray v = Nd4j.randn(DataType.FLOAT, 2, 4, t, 16);
        INDArray bias = Nd4j.randn(DataType.FLOAT, 2, 1, rows, t);
        assertThat(maxRel(attention(q, k, v, bias, 0.25), reference(q, k, v, bias, 0.25)))
            .as("T=%d rows=%d", t, rows).isLessThanOrEqualTo(1e-5);
      }
    }
  }

  @Test
  void viewsEmptyAndMismatchedShapes() {
    INDArray big = Nd4j.randn(DataType.FLOAT, 2, 3, 8, 10);
    INDArray q = big.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(1, 5), NDArrayIndex.interval(2, 8));
    INDArray k = Nd4j.randn(DataType.FLOAT, 2, 3, 7, 6);
    INDArray v = Nd4j.randn(DataType.FLOAT, 2, 3, 7, 6);
    INDArray bias = Nd4j.randn(DataType.FLOAT, 2, 1, 4, 7);
    INDArray out = Nd4j.create(DataType.FLOAT, new long[] {2, 3, 4, 6}, 'f');
    OneDnn.attention(q, k, v, bias, 0.5, out);
    assertThat(maxRel(out, reference(q.dup(), k, v, bias, 0.5))).isLessThanOrEqualTo(1e-5);
    // no queries: nothing reaches oneDNN
    OneDnn.attention(Nd4j.create(DataType.FLOAT, 2, 3, 0, 6), k, v, Nd4j.create(DataType.FLOAT, 2, 1, 0, 7), 0.5,
        Nd4j.create(DataType.FLOAT, 2, 3, 0, 6));
    assertThatThrownBy(() -> attention(Nd4j.rand(DataType.FLOAT, 2, 3, 4, 6), Nd4j.rand(DataType.FLOAT, 2, 3, 0, 6),
        Nd4j.rand(DataType.FLOAT, 2, 3, 0, 6), Nd4j.rand(DataType.FLOAT, 2, 1, 4, 0), 0.5))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no keys");
    assertThatThrownBy(() -> attention(Nd4j.rand(DataType.FLOAT, 2, 3, 4, 6), Nd4j.rand(DataType.FLOAT, 2, 3, 7, 5),
        v, bias, 0.5))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[2, 3, 4, 6]").hasMessageContaining("[2, 3, 7, 5]");
    assertThatThrownBy(() -> attention(Nd4j.rand(DataType.FLOAT, 2, 3, 4, 6), k, v, Nd4j.rand(DataType.FLOAT, 2, 3, 4, 7),
        0.5)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bias FLOAT[2, 3, 4, 7]");
    assertThatThrownBy(() -> attention(Nd4j.rand(DataType.FLOAT, 2, 3, 4, 6), k.castTo(DataType.DOUBLE), v, bias, 0.5))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("DOUBLE");
  }

  /** In a graph, for several batch sizes: the same values as the ops it replaces. */
  @Test
  void graphOpEqualsNd4jsOps() {
    SameDiff sd = SameDiff.create();
    SDVariable q = sd.placeHolder("q", DataType.FLOAT, -1, 3, 4, 5);
    SDVariable k = sd.placeHolder("k", DataType.FLOAT, -1, 3, 6, 5);
    SDVariable v = sd.placeHolder("v", DataType.FLOAT, -1, 3, 6, 5);
    SDVariable bias = sd.placeHolder("bias", DataType.FLOAT, -1, 1, 4, 6);
    SDVariable fast = OneDnnAttentionOp.apply(q, k, v, bias, 0.3).add(0.5);
    SDVariable plain = sd.mmul(sd.nn.softmax(sd.mmul(q, k, false, true, false).mul(0.3).add(bias), 3), v).add(0.5);
    for (int batch : new int[] {2, 1, 3}) {
      Map<String, INDArray> feed = Map.of("q", Nd4j.randn(DataType.FLOAT, batch, 3, 4, 5),
          "k", Nd4j.randn(DataType.FLOAT, batch, 3, 6, 5), "v", Nd4j.randn(DataType.FLOAT, batch, 3, 6, 5),
          "bias", Nd4j.randn(DataType.FLOAT, batch, 1, 4, 6));
      Map<String, INDArray> out = sd.output(feed, fast.name(), plain.name());
      assertThat(out.get(fast.name()).shape()).containsExactly(batch, 3, 4, 5);
      assertThat(maxRel(out.get(fast.name()), out.get(plain.name()))).isLessThanOrEqualTo(1e-5);
    }
  }
}
