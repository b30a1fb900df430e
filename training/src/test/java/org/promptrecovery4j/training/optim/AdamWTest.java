package org.promptrecovery4j.training.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.training.HeadFixtures;
import org.promptrecovery4j.weights.Checkpoints;
import org.promptrecovery4j.weights.WeightSource;

class AdamWTest {

  /** torch.optim.AdamW on one tensor, 5 steps with gradients from 1e1 down to 1e-3 and exact zeros. */
  @Test
  void matchesTorchAdamWStepByStep() throws Exception {
    double lr = HeadFixtures.expected().path("adamw").path("lr").asDouble();
    try (WeightSource w = Checkpoints.open(HeadFixtures.dir().resolve("adamw.safetensors"))) {
      INDArray p = w.loadFloat("param0").dup('c');
      AdamW opt = new AdamW(AdamW.Settings.seed(lr));
      for (int step = 1; step <= 5; step++) {
        opt.step(Map.of("p", p), Map.of("p", w.loadFloat("grad" + step)));
        HeadFixtures.assertClose("param after step " + step, w.loadFloat("param" + step), p, 2.4e-7, 0); // within 2 ulp (measured: bit-identical but one value, 1 ulp off, at step 4)
      }
      AdamW.ParamState s = opt.state().get("p");
      assertThat(s.step()).isEqualTo(5);
      HeadFixtures.assertClose("exp_avg", w.loadFloat("exp_avg5"), s.expAvg(), 2.4e-7, 0);
      HeadFixtures.assertClose("exp_avg_sq", w.loadFloat("exp_avg_sq5"), s.expAvgSq(), 2.4e-7, 0);
    }
  }

  /** The multi-threaded path (parameters above one chunk) gives exactly the single-threaded loop's values. */
  @Test
  void largeParametersEqualTheElementLoop() {
    Nd4j.getRandom().setSeed(3);
    int n = 300_001;
    INDArray p = Nd4j.randn(DataType.FLOAT, n);
    INDArray reference = p.dup();
    AdamW opt = new AdamW(AdamW.Settings.seed(1e-2));
    AdamW.Scalars k;
    INDArray m = Nd4j.zeros(DataType.FLOAT, n);
    INDArray v = Nd4j.zeros(DataType.FLOAT, n);
    for (int step = 1; step <= 3; step++) {
      INDArray g = Nd4j.randn(DataType.FLOAT, n);
      opt.step(Map.of("p", p), Map.of("p", g));
      double bc1 = 1 - Math.pow(0.85, step);
      double bc2 = 1 - Math.pow(0.999, step);
      k = new AdamW.Scalars((float) (1 - 1e-2 * 0.005), (float) (1 - 0.85), 0.999f, (float) (1 - 0.999),
          (float) -(1e-2 / bc1), (float) Math.sqrt(bc2), 1e-8f);
      AdamW.updateRange(k, reference.data().asNioFloat(), g.data().asNioFloat(), m.data().asNioFloat(),
          v.data().asNioFloat(), 0, n);
    }
    assertThat(p.data().asFloat()).containsExactly(reference.data().asFloat());
  }

  @Test
  void clipGradNormScalesAllGradientsByTheTotalNorm() {
    INDArray a = Nd4j.createFromArray(3f, 0f);
    INDArray b = Nd4j.createFromArray(new float[][] {{0f, 4f}});
    float total = GradClipping.clipGradNorm(List.of(a, b), 1.0);
    assertThat(total).isEqualTo(5f);
    float coef = 1f / (5f + 1e-6f);
    assertThat(a.getFloat(0)).isCloseTo(3f * coef, within(1e-7f));
    assertThat(b.getFloat(0, 1)).isCloseTo(4f * coef, within(1e-7f));
    // below the limit nothing changes; 0 turns clipping off
    assertThat(GradClipping.clipGradNorm(List.of(a, b), 2.0)).isCloseTo(1f, within(1e-6f));
    assertThat(a.getFloat(0)).isCloseTo(3f * coef, within(1e-7f));
    INDArray c = Nd4j.createFromArray(30f, 40f);
    assertThat(GradClipping.clipGradNorm(List.of(c), 0)).isEqualTo(50f);
    assertThat(c.getFloat(1)).isEqualTo(40f);
  }

  @Test
  void invalidSettingsAreNamed() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new AdamW.Settings(1e-3, 1.0, 0.999, 1e-8, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("betas");
  }
}
