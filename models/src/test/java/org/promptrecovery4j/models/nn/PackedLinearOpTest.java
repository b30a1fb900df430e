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

/**
 * The oneDNN 3.3 path for bf16 products ({@link OneDnn}, {@link PackedLinearOp}) against the naive product it
 * replaces: x rounded to bf16, times the bf16 weight in float32, the sum rounded to bf16 (what ND4J's bf16 mmul and
 * PyTorch's bf16 linear compute). The two differ only in the order the float32 sums are accumulated, so a result
 * may land on the other side of a bf16 rounding boundary: at most one bf16 step (2⁻⁸ of the value) apart, and
 * almost every element equal.
 */
class PackedLinearOpTest {

  @BeforeAll
  static void needsOneDnn() {
    Assumptions.assumeTrue(OneDnn.available(), "oneDNN 3.3 bf16 path not usable here: " + OneDnn.unusableReason());
  }

  /** bf16(bf16(x) W) computed plainly in float32. */
  private static INDArray naive(INDArray x, INDArray wBf16) {
    INDArray xr = x.castTo(DataType.BFLOAT16).castTo(DataType.FLOAT);
    return xr.mmul(wBf16.castTo(DataType.FLOAT)).castTo(DataType.BFLOAT16).castTo(DataType.FLOAT);
  }

  @Test
  void packedProductEqualsTheNaiveBf16ProductWithinOneBf16Step() {
    Nd4j.getRandom().setSeed(7);
    // sizes that are and are not multiples of oneDNN's blocks (64 columns, 2 rows), and row counts of decode and prefill
    int[][] kn = {{64, 128}, {96, 80}, {130, 257}, {2560, 96}};
    for (int[] s : kn) {
      INDArray w = Nd4j.randn(DataType.FLOAT, s[0], s[1]).muli(0.05).castTo(DataType.BFLOAT16);
      OneDnn.PackedWeight p = OneDnn.pack(w);
      assertThat(p.k()).isEqualTo(s[0]);
      assertThat(p.n()).isEqualTo(s[1]);
      for (int m : new int[] {1, 3, 16, 37}) {
        INDArray x = Nd4j.randn(DataType.FLOAT, m, s[0]);
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, m, s[1]);
        OneDnn.multiply(x, p, out);
        INDArray expected = naive(x, w);
        INDArray diff = out.sub(expected);
        double worstRelative = Transforms.abs(diff).div(Transforms.abs(expected).add(1e-6)).maxNumber().doubleValue();
        long equal = expected.length() - diff.neq(0).castTo(DataType.INT).sumNumber().longValue();
        assertThat(worstRelative).as("K=%d N=%d M=%d", s[0], s[1], m).isLessThanOrEqualTo(1.0 / 128);
        assertThat(equal).as("K=%d N=%d M=%d equal elements", s[0], s[1], m).isGreaterThanOrEqualTo(expected.length() * 95 / 100);
        // the result is bf16-exact: widening a bf16 and narrowing it again changes nothing
        assertThat(out.castTo(DataType.BFLOAT16).castTo(DataType.FLOAT).equals(out)).isTrue();
      }
    }
  }

  /** A float32 weight packed: the plain float32 product, up to the order of the sums. */
  @Test
  void packedFloat32ProductEqualsThePlainProduct() {
    Nd4j.getRandom().setSeed(11);
    int[][] kn = {{64, 128}, {96, 80}, {130, 257}, {2560, 96}};
    for (int[] s : kn) {
      INDArray w = Nd4j.randn(DataType.FLOAT, s[0], s[1]).muli(0.05);
      OneDnn.PackedWeight p = OneDnn.pack(w);
      assertThat(p.bf16()).isFalse();
      assertThat(p.array().dataType()).isEqualTo(DataType.FLOAT);
      for (int m : new int[] {1, 3, 16, 37}) {
        INDArray x = Nd4j.randn(DataType.FLOAT, m, s[0]);
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, m, s[1]);
        OneDnn.multiply(x, p, out);
        INDArray expected = x.mmul(w);
        double scale = Math.max(1, Transforms.abs(expected).maxNumber().doubleValue());
        assertThat(Transforms.abs(out.sub(expected)).maxNumber().doubleValue() / scale).as("K=%d N=%d M=%d", s[0], s[1], m)
            .isLessThanOrEqualTo(1e-5);
      }
    }
  }

  @Test
  void viewsAndStridedInputsGiveTheSameProduct() {
    INDArray w = Nd4j.randn(DataType.FLOAT, 96, 80).muli(0.05).castTo(DataType.BFLOAT16);
    OneDnn.PackedWeight p = OneDnn.pack(w);
    INDArray big = Nd4j.randn(DataType.FLOAT, 8, 192);
    INDArray view = big.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 6), org.nd4j.linalg.indexing.NDArrayIndex.interval(96, 192));
    INDArray out = Nd4j.createUninitialized(DataType.FLOAT, 4, 80);
    OneDnn.multiply(view, p, out);
    INDArray copyOut = Nd4j.createUninitialized(DataType.FLOAT, 4, 80);
    OneDnn.multiply(view.dup('c'), p, copyOut);
    assertThat(out).isEqualTo(copyOut);
    INDArray fOrderOut = Nd4j.create(DataType.FLOAT, new long[] {4, 80}, 'f');
    OneDnn.multiply(view, p, fOrderOut);
    assertThat(fOrderOut.dup('c')).isEqualTo(copyOut);
  }

  @Test
  void shapesThatDoNotFitAreNamedErrors() {
    OneDnn.PackedWeight p = OneDnn.pack(Nd4j.randn(DataType.FLOAT, 64, 32).castTo(DataType.BFLOAT16));
    assertThatThrownBy(() -> OneDnn.multiply(Nd4j.rand(DataType.FLOAT, 2, 63), p, Nd4j.create(DataType.FLOAT, 2, 32)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[2, 63]").hasMessageContaining("[64, 32]");
    OneDnn.multiply(Nd4j.create(DataType.FLOAT, 0, 64), p, Nd4j.create(DataType.FLOAT, 0, 32)); // no rows: nothing to do
    assertThatThrownBy(() -> OneDnn.pack(Nd4j.rand(DataType.DOUBLE, 4, 4)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bf16 or float32").hasMessageContaining("DOUBLE");
    assertThatThrownBy(() -> OneDnn.pack(Nd4j.rand(DataType.FLOAT, 2, 4, 4)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rank-2").hasMessageContaining("[2, 4, 4]");
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 64);
    SDVariable y = PackedLinearOp.apply(x, sd.constant("w", p.array()), p);
    assertThatThrownBy(() -> sd.output(Map.of("x", Nd4j.rand(DataType.FLOAT, 3, 65)), y.name()))
        .hasStackTraceContaining("does not fit a [64, 32] weight");
  }

  @Test
  void aGraphOpComputesThePackedProduct() {
    INDArray w = Nd4j.randn(DataType.FLOAT, 64, 48).muli(0.1).castTo(DataType.BFLOAT16);
    OneDnn.PackedWeight p = OneDnn.pack(w);
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 64);
    SDVariable y = PackedLinearOp.apply(x, sd.constant("w", p.array()), p).add(1.0);
    for (int m : new int[] {1, 5, 1}) {
      INDArray in = Nd4j.randn(DataType.FLOAT, m, 64);
      INDArray got = sd.output(Map.of("x", in), y.name()).get(y.name());
      INDArray expected = Nd4j.createUninitialized(DataType.FLOAT, m, 48);
      OneDnn.multiply(in, p, expected);
      assertThat(got).isEqualTo(expected.add(1.0));
    }
  }

  private static final class Transforms {
    static INDArray abs(INDArray a) {
      return org.nd4j.linalg.ops.transforms.Transforms.abs(a, true);
    }
  }
}
