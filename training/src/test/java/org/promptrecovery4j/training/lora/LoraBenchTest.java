package org.promptrecovery4j.training.lora;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.generation.CausalLM;
import org.promptrecovery4j.models.generation.DecoderOptions;
import org.promptrecovery4j.models.lora.LoraAdapter;
import org.promptrecovery4j.models.lora.LoraConfig;
import org.promptrecovery4j.training.optim.AdamW;

/**
 * The JVM side of the LoRA training benchmark (tools/reference/bench_lora.py has the PyTorch side and the
 * definitions): LoRA r=8 on q/k/v/dense of a phi-2-shaped folder, one random sequence of 256 tokens, loss on every
 * token; seconds per step (forward + backward + AdamW) and RSS. Runs only with {@code -Dpr4j.bench.lora=DIR};
 * {@code -Dpr4j.bench.lora.steps=N} (default 6) timed steps after one warm-up; RSS is printed every 20 steps, so a
 * long run shows whether memory stays flat. Asserts nothing.
 */
class LoraBenchTest {

  @Test
  void bench() throws Exception {
    String dir = System.getProperty("pr4j.bench.lora", "");
    Assumptions.assumeTrue(!dir.isEmpty(), "benchmark: give -Dpr4j.bench.lora=DIR");
    int steps = Integer.getInteger("pr4j.bench.lora.steps", 6);
    int length = Integer.getInteger("pr4j.bench.lora.length", 256);
    LoraAdapter lora = LoraAdapter.fresh(LoraConfig.of(8, 16, List.of("q_proj", "k_proj", "v_proj", "dense")), 0);
    long t0 = System.nanoTime();
    try (CausalLM lm = lora.loadOnto(Path.of(dir), DecoderOptions.defaults())) {
      double load = (System.nanoTime() - t0) / 1e9;
      LoraTraining t = new LoraTraining(lm, lora, new AdamW.Settings(1e-4, 0.9, 0.999, 1e-8, 0.01), 0);
      Random r = new Random(1);
      long[][] ids = new long[1][length];
      int[][] labels = new int[1][length];
      for (int i = 0; i < length; i++) {
        ids[0][i] = 3 + r.nextInt(lm.dims().vocabSize() - 3);
        labels[0][i] = (int) ids[0][i];
      }
      INDArray x = Nd4j.createFromArray(ids);
      INDArray mask = Nd4j.ones(org.nd4j.linalg.api.buffer.DataType.FLOAT, 1, length);
      t.step(x, mask, labels); // warm-up (builds the gradient function)
      double[] times = new double[steps];
      List<String> rss = new ArrayList<>();
      for (int s = 0; s < steps; s++) {
        long a = System.nanoTime();
        t.step(x, mask, labels);
        times[s] = (System.nanoTime() - a) / 1e9;
        if ((s + 1) % 20 == 0 || s == steps - 1) {
          rss.add(String.format(Locale.ROOT, "\"%d\":%.2f", s + 1, rssGib("VmRSS")));
        }
      }
      double[] sorted = times.clone();
      Arrays.sort(sorted);
      System.out.println(String.format(Locale.ROOT, "BENCH {\"side\":\"jvm\",\"length\":%d,\"load_s\":%.1f,"
          + "\"step_s_median\":%.3f,\"step_s\":%s,\"rss_gib_by_step\":{%s},\"peak_rss_gib\":%.2f}", length, load,
          sorted[steps / 2], Arrays.toString(times), String.join(",", rss), rssGib("VmHWM")));
    }
  }

  static double rssGib(String key) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(key + ":")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / (double) (1 << 20);
      }
    }
    return Double.NaN;
  }
}
