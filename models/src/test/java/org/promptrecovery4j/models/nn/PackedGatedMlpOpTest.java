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

/**
 * The gated MLP as one oneDNN op ({@link OneDnn#gatedMlp}, {@link PackedGatedMlpOp}) against the naive graph it
 * replaces, built from ND4J's ops and the project's {@link Activations} (verified against HF): {@code down(act(x gate)
 * · (x up))}. float32 weights: equal within float32 rounding. bf16 weights: the naive graph rounds exactly where the
 * fused op does (x once, {@code act(x gate)}, the product, the down product), so the two differ only where a float32
 * sum accumulated in another order lands on the other side of a bf16 rounding boundary: within two bf16 steps of the
 * output's scale, almost every element equal.
 */
class PackedGatedMlpOpTest {

  private static final String[] ACTIVATIONS = {"silu", "gelu_pytorch_tanh", "gelu", "relu"};

  @BeforeAll
  static void needsOneDnn() {
    Assumptions.assumeTrue(OneDnn.loaded(), "oneDNN 3.3 not usable here: " + OneDnn.unusableReason());
  }

  /** The naive gated MLP in a SameDiff graph; {@code bf16}: rounded where the fused op rounds. */
  private static INDArray naive(INDArray x, INDArray gate, INDArray up, INDArray down, String act, boolean bf16) {
    SameDiff sd = SameDiff.create();
    java.util.function.UnaryOperator<SDVariable> round = v -> bf16 ? v.castTo(DataType.BFLOAT16).castTo(DataType.FLOAT) : v;
    SDVariable in = round.apply(sd.constant(x));
    SDVariable g = round.apply(Activations.apply(act, in.mmul(sd.constant(gate.castTo(DataType.FLOAT)))));
    SDVariable p = round.apply(in.mmul(sd.constant(up.castTo(DataType.FLOAT))).mul(g));
    SDVariable out = round.apply(p.mmul(sd.constant(down.castTo(DataType.FLOAT))));
    return out.eval();
  }

  private static INDArray fused(INDArray x, INDArray gate, INDArray up, INDArray down, String act) {
    OneDnn.PackedWeight[] packed = {OneDnn.pack(gate), OneDnn.pack(up), OneDnn.pack(down)};
    INDArray out = Nd4j.createUninitialized(DataType.FLOAT, x.size(0), down.size(1));
    OneDnn.gatedMlp(x, packed[0], packed[1], packed[2], act, out);
    return out;
  }

  @Test
  void float32EqualsTheNaiveGraph() {
    Nd4j.getRandom().setSeed(11);
    // hidden × intermediate: a multiple of oneDNN's blocks and odd sizes; rows of decode and of a prefill
    for (int[] hi : new int[][] {{64, 128}, {40, 72}, {33, 97}}) {
      for (int rows : new int[] {1, 5, 37}) {
        for (String act : ACTIVATIONS) {
          INDArray x = Nd4j.randn(DataType.FLOAT, rows, hi[0]);
          INDArray gate = Nd4j.randn(DataType.FLOAT, hi[0], hi[1]).muli(0.2);
          INDArray up = Nd4j.randn(DataType.FLOAT, hi[0], hi[1]).muli(0.2);
          INDArray down = Nd4j.randn(DataType.FLOAT, hi[1], hi[0]).muli(0.2);
          INDArray expected = naive(x, gate, up, down, act, false);
          double scale = Transforms.abs(expected, true).maxNumber().doubleValue();
          double diff = Transforms.abs(fused(x, gate, up, down, act).sub(expected), false).maxNumber().doubleValue();
          assertThat(diff).as("%s %s rows %d", act, java.util.Arrays.toString(hi), rows).isLessThanOrEqualTo(1e-5 * Math.max(1, scale));
        }
      }
    }
  }

  @Test
  void bf16EqualsTheNaiveGraphRoundedAlike() {
    Assumptions.assumeTrue(OneDnn.available(), "oneDNN 3.3 bf16 path not usable here: " + OneDnn.unusableReason());
    Nd4j.getRandom().setSeed(12);
    long elements = 0;
    long equal = 0;
    for (int[] hi : new int[][] {{64, 128}, {40, 72}, {130, 257}}) {
      for (int rows : new int[] {1, 5, 37}) {
        for (String act : ACTIVATIONS) {
          INDArray x = Nd4j.randn(DataType.FLOAT, rows, hi[0]);
          INDArray gate = Nd4j.randn(DataType.FLOAT, hi[0], hi[1]).muli(0.2).castTo(DataType.BFLOAT16);
          INDArray up = Nd4j.randn(DataType.FLOAT, hi[0], hi[1]).muli(0.2).castTo(DataType.BFLOAT16);
          INDArray down = Nd4j.randn(DataType.FLOAT, hi[1], hi[0]).muli(0.2).castTo(DataType.BFLOAT16);
          INDArray expected = naive(x, gate, up, down, act, true);
          INDArray got = fused(x, gate, up, down, act);
          double scale = Transforms.abs(expected, true).maxNumber().doubleValue();
          INDArray diff = Transforms.abs(got.sub(expected), false);
          assertThat(diff.maxNumber().doubleValue()).as("%s %s rows %d", act, java.util.Arrays.toString(hi), rows)
              .isLessThanOrEqualTo(2 * scale / 256);
          elements += diff.length();
          equal += diff.eq(0).castTo(DataType.INT).sumNumber().longValue();
        }
      }
    }
    System.out.printf("bf16 gated MLP, fused vs naive: %d of %d outputs equal%n", equal, elements);
    assertThat((double) equal / elements).isGreaterThan(0.9);
  }

  @Test
  void inAGraphForSeveralRowCounts() {
    Nd4j.getRandom().setSeed(13);
    INDArray gate = Nd4j.randn(DataType.FLOAT, 24, 40).muli(0.2);
    INDArray up = Nd4j.randn(DataType.FLOAT, 24, 40).muli(0.2);
    INDArray down = Nd4j.randn(DataType.FLOAT, 40, 24).muli(0.2);
    OneDnn.PackedWeight[] packed = {OneDnn.pack(gate), OneDnn.pack(up), OneDnn.pack(down)};
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 24);
    SDVariable[] bound = {sd.constant("g", packed[0].array()), sd.constant("u", packed[1].array()),
        sd.constant("d", packed[2].array())};
    SDVariable y = PackedGatedMlpOp.apply(x, bound, packed, "silu").add(1.0);
    for (int rows : new int[] {3, 1, 17}) {
      INDArray in = Nd4j.randn(DataType.FLOAT, rows, 24);
      INDArray out = sd.output(Map.of("x", in), y.name()).get(y.name());
      INDArray expected = naive(in, gate, up, down, "silu", false).add(1.0);
      assertThat(out.shape()).containsExactly(rows, 24);
      assertThat(Transforms.abs(out.sub(expected), false).maxNumber().doubleValue()).isLessThanOrEqualTo(1e-5);
    }
  }

  @Test
  void mismatchedWeightsAndUnknownActivationsAreNamedErrors() {
    OneDnn.PackedWeight g = OneDnn.pack(Nd4j.rand(DataType.FLOAT, 8, 16));
    OneDnn.PackedWeight d = OneDnn.pack(Nd4j.rand(DataType.FLOAT, 16, 8));
    OneDnn.PackedWeight wrongDown = OneDnn.pack(Nd4j.rand(DataType.FLOAT, 12, 8));
    INDArray x = Nd4j.rand(DataType.FLOAT, 3, 8);
    INDArray out = Nd4j.create(DataType.FLOAT, 3, 8);
    assertThatThrownBy(() -> OneDnn.gatedMlp(x, g, g, wrongDown, "silu", out))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[12, 8]");
    assertThatThrownBy(() -> OneDnn.gatedMlp(Nd4j.rand(DataType.FLOAT, 3, 9), g, g, d, "silu", out))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[3, 9]");
    assertThatThrownBy(() -> OneDnn.gatedMlp(x, g, g, d, "mish", out))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'mish'");
    assertThat(OneDnn.activation("mish")).isNull();
    // no rows: nothing reaches oneDNN
    OneDnn.gatedMlp(Nd4j.create(DataType.FLOAT, 0, 8), g, g, d, "silu", Nd4j.create(DataType.FLOAT, 0, 8));
  }
}
