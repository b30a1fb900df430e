package org.promptrecovery4j.models.generation;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.promptrecovery4j.models.Models;

/**
 * The JVM side of the decoder benchmark (tools/reference/bench_decoders.py has the PyTorch side and the
 * measurement definitions). Runs only when {@code -Dpr4j.bench.model=DIR} is given; prints one JSON line,
 * asserts nothing. {@code -Dpr4j.bench.storage=AS_STORED} keeps bf16 weights 2 bytes a value;
 * {@code -Dpr4j.bench.only=rss} stops after loading and one short generation (memory only).
 */
class DecoderBenchTest {

  @Test
  void bench() throws Exception {
    String dir = System.getProperty("pr4j.bench.model", "");
    Assumptions.assumeTrue(!dir.isEmpty(), "benchmark: give -Dpr4j.bench.model=DIR");
    DecoderOptions.WeightStorage storage =
        DecoderOptions.WeightStorage.valueOf(System.getProperty("pr4j.bench.storage", "FLOAT32"));
    int runs = Integer.getInteger("pr4j.bench.runs", 3);
    long t0 = System.nanoTime();
    try (CausalLM model = Models.loadCausalLM(Path.of(dir), DecoderOptions.defaults().withStorage(storage))) {
      double load = (System.nanoTime() - t0) / 1e9;
      StringBuilder json = new StringBuilder("{\"storage\":\"" + storage + "\",\"load_s\":" + load
          + ",\"weight_gib\":" + model.weightBytes() / (double) (1L << 30) + ",\"rss_after_load_gib\":" + rssGib("VmRSS"));
      Generator gen = new Generator(model);
      int vocab = model.dims().vocabSize();
      gen.generate(prompts(1, 16, vocab), GenerationConfig.greedy(2), null); // warm-up
      if (System.getProperty("pr4j.bench.only", "").equals("rss")) {
        json.append(",\"peak_rss_gib\":").append(rssGib("VmHWM")).append('}');
        System.out.println("BENCH " + json);
        return;
      }
      List<int[]> long512 = prompts(1, 512, vocab);
      json.append(",\"prefill512_s\":").append(median(runs, () -> time(gen, long512, 1)));
      json.append(",\"rss_after_prefill_gib\":").append(rssGib("VmHWM"));
      for (int b : new int[] {1, 16}) {
        List<int[]> p = prompts(b, 64, vocab);
        double t1 = median(runs, () -> time(gen, p, 1));
        double t17 = median(runs, () -> time(gen, p, 17));
        json.append(",\"decode_b").append(b).append("_tok_s\":").append(16.0 * b / (t17 - t1));
        json.append(",\"rss_after_b").append(b).append("_gib\":").append(rssGib("VmHWM"));
      }
      json.append(",\"peak_rss_gib\":").append(rssGib("VmHWM")).append('}');
      System.out.println("BENCH " + json);
    }
  }

  /** Random ids (not PyTorch's: timing does not depend on the values). */
  static List<int[]> prompts(int batch, int length, int vocab) {
    Random r = new Random(0);
    List<int[]> out = new ArrayList<>();
    for (int i = 0; i < batch; i++) {
      out.add(r.ints(length, 3, vocab).toArray());
    }
    return out;
  }

  static double time(Generator gen, List<int[]> prompts, int newTokens) {
    long t = System.nanoTime();
    gen.generate(prompts, GenerationConfig.greedy(newTokens).withMaxBatchSize(prompts.size()), null);
    return (System.nanoTime() - t) / 1e9;
  }

  static double median(int runs, Supplier<Double> f) {
    double[] v = new double[runs];
    for (int i = 0; i < runs; i++) {
      v[i] = f.get();
    }
    Arrays.sort(v);
    return v[runs / 2];
  }

  static double rssGib(String field) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(field + ":")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / (double) (1L << 20);
      }
    }
    return -1;
  }
}
