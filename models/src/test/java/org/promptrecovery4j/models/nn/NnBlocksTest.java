package org.promptrecovery4j.models.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Each shared block against a naive plain-Java computation. */
class NnBlocksTest {

  static INDArray rand(long seed, long... shape) {
    Nd4j.getRandom().setSeed(seed);
    return Nd4j.randn(DataType.FLOAT, shape);
  }

  static INDArray run(SameDiff sd, SDVariable out, Map<String, INDArray> inputs) {
    return sd.output(inputs, out.name()).get(out.name());
  }

  @Test
  void linearOnRank3InputEqualsNaiveProduct() {
    SameDiff sd = Graphs.newGraph();
    INDArray x = rand(1, 2, 3, 4);
    INDArray w = rand(2, 5, 4); // HF layout [out, in]
    INDArray b = rand(3, 5);
    SDVariable in = sd.placeHolder("x", DataType.FLOAT, -1, -1, 4);
    Linear lin = new Linear("l", sd.constant(w.transpose().dup('c')), sd.constant(b), 4, 5);
    INDArray y = run(sd, lin.forward(in, 3), Map.of("x", x));
    assertThat(y.shape()).containsExactly(2L, 3L, 5L);
    for (int i = 0; i < 2; i++) {
      for (int s = 0; s < 3; s++) {
        for (int o = 0; o < 5; o++) {
          double acc = b.getDouble(o);
          for (int k = 0; k < 4; k++) {
            acc += x.getDouble(i, s, k) * w.getDouble(o, k);
          }
          assertThat(y.getDouble(i, s, o)).isCloseTo(acc, within(1e-5));
        }
      }
    }
    // the same graph reruns at another batch and length
    assertThat(run(sd, sd.getVariable(lin.forward(in, 3).name()), Map.of("x", rand(4, 1, 7, 4))).shape())
        .containsExactly(1L, 7L, 5L);
  }

  @Test
  void layerNormAndRmsNormEqualNaive() {
    SameDiff sd = Graphs.newGraph();
    INDArray x = rand(5, 2, 3, 8).mul(3).add(1);
    INDArray g = rand(6, 8);
    INDArray b = rand(7, 8);
    SDVariable in = sd.placeHolder("x", DataType.FLOAT, -1, -1, 8);
    SDVariable ln = Norms.layerNorm(in, sd.constant(g), sd.constant(b), 1e-5, 2);
    SDVariable rms = Norms.rmsNorm(in, sd.constant(g), 1e-6, 2);
    Map<String, INDArray> out = sd.output(Map.of("x", x), ln.name(), rms.name());
    for (int i = 0; i < 2; i++) {
      for (int s = 0; s < 3; s++) {
        double mean = 0;
        double sq = 0;
        for (int k = 0; k < 8; k++) {
          mean += x.getDouble(i, s, k) / 8;
          sq += x.getDouble(i, s, k) * x.getDouble(i, s, k) / 8;
        }
        double var = 0;
        for (int k = 0; k < 8; k++) {
          var += Math.pow(x.getDouble(i, s, k) - mean, 2) / 8;
        }
        for (int k = 0; k < 8; k++) {
          double e = (x.getDouble(i, s, k) - mean) / Math.sqrt(var + 1e-5) * g.getDouble(k) + b.getDouble(k);
          assertThat(out.get(ln.name()).getDouble(i, s, k)).isCloseTo(e, within(1e-5));
          double r = x.getDouble(i, s, k) / Math.sqrt(sq + 1e-6) * g.getDouble(k);
          assertThat(out.get(rms.name()).getDouble(i, s, k)).isCloseTo(r, within(1e-5));
        }
      }
    }
  }

  @Test
  void geluVariantsMatchHuggingFaceDefinitions() {
    SameDiff sd = Graphs.newGraph();
    float[] xs = {-3f, -1f, -0.5f, 0f, 0.5f, 1f, 2f, 4f};
    SDVariable in = sd.placeHolder("x", DataType.FLOAT, xs.length);
    SDVariable erf = Activations.apply("gelu", in);
    SDVariable tanh = Activations.apply("gelu_new", in);
    Map<String, INDArray> out = sd.output(Map.of("x", Nd4j.createFromArray(xs)), erf.name(), tanh.name());
    // torch.nn.functional.gelu(torch.tensor([...], dtype=torch.float64)) values
    double[] exact = {-0.0040496977, -0.1586552539, -0.1542687694, 0.0, 0.3457312306, 0.8413447461, 1.9544997361, 3.9998733903};
    for (int i = 0; i < xs.length; i++) {
      assertThat(out.get(erf.name()).getDouble(i)).isCloseTo(exact[i], within(2e-6));
      double x = xs[i];
      double t = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
      assertThat(out.get(tanh.name()).getDouble(i)).isCloseTo(t, within(2e-6));
    }
  }

  @Test
  void maskedAttentionEqualsNaiveSoftmax() {
    SameDiff sd = Graphs.newGraph();
    int B = 2, H = 2, S = 3, D = 4;
    INDArray q = rand(8, B, H, S, D);
    INDArray k = rand(9, B, H, S, D);
    INDArray v = rand(10, B, H, S, D);
    INDArray mask = Nd4j.createFromArray(new long[][] {{1, 1, 1}, {1, 1, 0}});
    SDVariable qv = sd.placeHolder("q", DataType.FLOAT, -1, H, -1, D);
    SDVariable kv = sd.placeHolder("k", DataType.FLOAT, -1, H, -1, D);
    SDVariable vv = sd.placeHolder("v", DataType.FLOAT, -1, H, -1, D);
    SDVariable mv = sd.placeHolder("mask", DataType.LONG, -1, -1);
    SDVariable o = Attention.scaledDotProduct(qv, kv, vv, Attention.paddingMask(mv), 0.5);
    SDVariable merged = Attention.mergeHeads(o, H, D);
    SDVariable split = Attention.splitHeads(merged, H, D);
    Map<String, INDArray> res = sd.output(Map.of("q", q, "k", k, "v", v, "mask", mask), o.name(), merged.name(), split.name());
    INDArray out = res.get(o.name());
    for (int b = 0; b < B; b++) {
      for (int h = 0; h < H; h++) {
        for (int s = 0; s < S; s++) {
          double[] p = new double[S];
          double max = Double.NEGATIVE_INFINITY;
          for (int t = 0; t < S; t++) {
            double dot = 0;
            for (int d = 0; d < D; d++) {
              dot += q.getDouble(b, h, s, d) * k.getDouble(b, h, t, d);
            }
            p[t] = mask.getLong(b, t) == 1 ? dot * 0.5 : Double.NEGATIVE_INFINITY;
            max = Math.max(max, p[t]);
          }
          double z = 0;
          for (int t = 0; t < S; t++) {
            p[t] = Math.exp(p[t] - max);
            z += p[t];
          }
          for (int d = 0; d < D; d++) {
            double acc = 0;
            for (int t = 0; t < S; t++) {
              acc += p[t] / z * v.getDouble(b, h, t, d);
            }
            assertThat(out.getDouble(b, h, s, d)).isCloseTo(acc, within(1e-5));
            assertThat(res.get(merged.name()).getDouble(b, s, h * D + d)).isEqualTo(out.getDouble(b, h, s, d));
          }
        }
      }
    }
    assertThat(res.get(split.name())).isEqualTo(out);
  }
}
