package org.promptrecovery4j.training.head;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.bench.EncoderBench;
import org.promptrecovery4j.models.deberta.DebertaV2Model;
import org.promptrecovery4j.training.optim.AdamW;
import org.promptrecovery4j.training.optim.GradClipping;

/**
 * Time per training step through DeBERTa-v3-large's shapes (random weights) with the top {@code pr4j.bench.top} layers
 * (default 1) unfrozen, the seed's head (4096 → 32256 → 768), batch {@code pr4j.bench.batch} (default 4) of
 * {@code pr4j.bench.length}-token texts (default 128): run with {@code -Dpr4j.bench=true}. Prints; asserts nothing.
 */
@EnabledIfSystemProperty(named = "pr4j.bench", matches = "true")
class DebertaRegressorBenchTest {

  @Test
  void debertaLargeTopLayersStep() throws Exception {
    int top = Integer.getInteger("pr4j.bench.top", 1);
    int batch = Integer.getInteger("pr4j.bench.batch", 4);
    int length = Integer.getInteger("pr4j.bench.length", 128);
    DebertaV2Model deberta = EncoderBench.randomDebertaV3Large(name -> {
      for (int i = 24 - top; i < 24; i++) {
        if (name.startsWith("encoder.layer." + i + ".")) {
          return true;
        }
      }
      return false;
    });
    RegressionHead head = RegressionHead.initialize(RegressionHead.Config.of(4096, 32256, 768), 0);
    DebertaRegressor model = DebertaRegressor.create(deberta, head, HeadLoss.COSINE);
    AdamW opt = new AdamW(AdamW.Settings.seed(1e-5));
    Random r = new Random(1);
    List<int[]> o = new ArrayList<>();
    List<int[]> w = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      o.add(r.ints(length, 5, 128000).toArray());
      w.add(r.ints(length, 5, 128000).toArray());
    }
    INDArray y = Nd4j.randn(DataType.FLOAT, batch, 768);
    int n = Integer.getInteger("pr4j.bench.steps", 3);
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      DebertaRegressor.Step s = model.forwardBackward(o, w, y);
      long t1 = System.nanoTime();
      GradClipping.clipGradNorm(s.gradients().values(), 1.0);
      opt.step(model.parameters(), s.gradients());
      long t2 = System.nanoTime();
      System.out.printf(Locale.ROOT, "top %d, batch %d x %d tokens, step %d: forward+backward %.0f ms, clip+AdamW %.0f ms,"
          + " loss %.5f; RSS %s%n", top, batch, length, i, (t1 - t0) / 1e6, (t2 - t1) / 1e6, s.loss(), HeadBenchTest.rss());
    }
  }
}
