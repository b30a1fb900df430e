package org.promptrecovery4j.training.head;

import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.training.optim.AdamW;
import org.promptrecovery4j.training.optim.GradClipping;

/**
 * Time per training step of the seed's head at real size (4096 → 32256 → 768, batch 4, cosine loss): run with
 * {@code -Dpr4j.bench=true} (compare with tools/reference/bench_head.py). Prints medians; asserts nothing.
 */
@EnabledIfSystemProperty(named = "pr4j.bench", matches = "true")
class HeadBenchTest {

  @Test
  void realSizeStep() {
    int in = Integer.getInteger("pr4j.bench.in", 4096);
    RegressionHead head = RegressionHead.initialize(RegressionHead.Config.of(in, 32256, 768), 0);
    AdamW opt = new AdamW(AdamW.Settings.seed(1e-4));
    Nd4j.getRandom().setSeed(1);
    INDArray x = Nd4j.randn(DataType.FLOAT, 4, in);
    INDArray y = Nd4j.randn(DataType.FLOAT, 4, 768);
    int n = 6;
    double[] fb = new double[n];
    double[] clip = new double[n];
    double[] step = new double[n];
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      RegressionHead.Step s = head.forwardBackward(x, y, HeadLoss.COSINE, null);
      long t1 = System.nanoTime();
      GradClipping.clipGradNorm(s.gradients().values(), 1.0);
      long t2 = System.nanoTime();
      opt.step(head.parameters(), s.gradients());
      long t3 = System.nanoTime();
      fb[i] = (t1 - t0) / 1e6;
      clip[i] = (t2 - t1) / 1e6;
      step[i] = (t3 - t2) / 1e6;
      System.out.printf(Locale.ROOT, "step %d: forward+backward %.0f ms, clip %.0f ms, AdamW %.0f ms, loss %.5f%n", i,
          fb[i], clip[i], step[i], s.loss());
    }
    System.out.printf(Locale.ROOT, "median (steps 1..%d): forward+backward %.0f ms, clip %.0f ms, AdamW %.0f ms; RSS %s%n",
        n - 1, median(fb), median(clip), median(step), rss());
  }

  static double median(double[] v) {
    double[] s = Arrays.copyOfRange(v, 1, v.length);
    Arrays.sort(s);
    return s[s.length / 2];
  }

  static String rss() {
    try {
      return java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status")).stream()
          .filter(l -> l.startsWith("VmHWM") || l.startsWith("VmRSS")).toList().toString();
    } catch (java.io.IOException e) {
      return "?";
    }
  }
}
