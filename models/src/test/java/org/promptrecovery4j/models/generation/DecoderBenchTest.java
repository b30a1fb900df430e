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
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
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
          + ",\"weight_gib\":" + model.weightBytes() / (double) (1L << 30) + ",\"rss_after_load_gib\":" + rssGib("VmRSS") + ",\"anon_after_load_gib\":" + rssGib("RssAnon")
          + ",\"file_after_load_gib\":" + rssGib("RssFile") + ",\"heap_used_gib\":"
          + (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / (double) (1L << 30)
          + ",\"heap_committed_gib\":" + Runtime.getRuntime().totalMemory() / (double) (1L << 30));
      Generator gen = new Generator(model);
      int vocab = model.dims().vocabSize();
      if (System.getProperty("pr4j.bench.only", "").equals("phases")) {
        phases(model, vocab, json);
        return;
      }
      gen.generate(prompts(1, 16, vocab), GenerationConfig.greedy(2), null); // warm-up
      if (System.getProperty("pr4j.bench.only", "").equals("rss")) {
        json.append(",\"anon_after_run_gib\":").append(rssGib("RssAnon"));
        json.append(",\"peak_rss_gib\":").append(rssGib("VmHWM")).append('}');
        System.out.println("BENCH " + json);
        return;
      }
      double[] prefill = new double[runs];
      for (int r = 0; r < runs; r++) {
        prefill[r] = prefill(model, 1, 512, vocab, null);
      }
      Arrays.sort(prefill);
      json.append(",\"prefill512_s\":").append(prefill[runs / 2]);
      json.append(",\"rss_after_prefill_gib\":").append(rssGib("VmHWM"));
      for (int b : new int[] {1, 16}) {
        double step = decodeStep(model, b, 64, 16, vocab);
        json.append(",\"decode_b").append(b).append("_tok_s\":").append(b / step);
        json.append(",\"rss_after_b").append(b).append("_gib\":").append(rssGib("VmHWM"));
      }
      json.append(",\"peak_rss_gib\":").append(rssGib("VmHWM")).append('}');
      System.out.println("BENCH " + json);
    }
  }

  /**
   * Issue 5's memory measurement: peak RSS after load, after a prefill of 64 tokens, and after 16 decode
   * steps at batch 1 (each step's anonymous RSS printed as it goes), and the decode speed.
   */
  static void phases(CausalLM model, int vocab, StringBuilder json) throws Exception {
    json.append(",\"peak_after_load_gib\":").append(rssGib("VmHWM"));
    KvCache[] cache = new KvCache[1];
    double pre = prefill(model, 1, 64, vocab, cache);
    json.append(",\"prefill64_s\":").append(pre).append(",\"peak_after_prefill_gib\":").append(rssGib("VmHWM"))
        .append(",\"anon_after_prefill_gib\":").append(rssGib("RssAnon"));
    long t0 = System.nanoTime();
    int steps = 16;
    for (int s = 0; s < steps; s++) {
      int t = 64 + s;
      boolean[][] valid = new boolean[1][t + 1];
      Arrays.fill(valid[0], true);
      INDArray bias = AttentionMasks.causal(valid, t, 1, model.dims().groups(), model.dims().slidingWindow());
      CausalLM.StepOutput out = model.run(Nd4j.createFromArray(5L).reshape(1, 1), new int[][] {{t}}, bias, cache[0], true, true);
      out.logits().toFloatMatrix();
      cache[0].close();
      cache[0] = out.cache();
      System.out.println("STEP " + s + " anon_gib=" + rssGib("RssAnon") + " peak_gib=" + rssGib("VmHWM"));
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    cache[0].close();
    json.append(",\"decode16_b1_tok_s\":").append(steps / secs).append(",\"peak_after_decode_gib\":")
        .append(rssGib("VmHWM")).append(",\"anon_after_decode_gib\":").append(rssGib("RssAnon")).append('}');
    System.out.println("BENCH " + json);
  }

  /** Seconds for one prefill of [b, len] random ids (last-position logits and the cache); the cache goes to {@code keep}. */
  static double prefill(CausalLM model, int b, int len, int vocab, KvCache[] keep) {
    Random r = new Random(0);
    long[] ids = r.longs((long) b * len, 3, vocab).toArray();
    int[][] pos = new int[b][len];
    boolean[][] valid = new boolean[b][len];
    for (int i = 0; i < b; i++) {
      for (int t = 0; t < len; t++) {
        pos[i][t] = t;
        valid[i][t] = true;
      }
    }
    INDArray bias = AttentionMasks.causal(valid, 0, len, model.dims().groups(), model.dims().slidingWindow());
    long t0 = System.nanoTime();
    CausalLM.StepOutput out = model.run(Nd4j.createFromArray(ids).reshape(b, len), pos, bias, null, true, true);
    double s = (System.nanoTime() - t0) / 1e9;
    if (keep != null) {
      keep[0] = out.cache();
    } else {
      out.cache().close();
    }
    return s;
  }

  /** Median seconds of one decode step (one new token per row, KV cache of {@code len} growing). */
  static double decodeStep(CausalLM model, int b, int len, int steps, int vocab) {
    KvCache[] cache = new KvCache[1];
    prefill(model, b, len, vocab, cache);
    double[] times = new double[steps];
    for (int s = 0; s < steps; s++) {
      int t = len + s;
      int[][] pos = new int[b][1];
      boolean[][] valid = new boolean[b][t + 1];
      for (int i = 0; i < b; i++) {
        pos[i][0] = t;
        Arrays.fill(valid[i], true);
      }
      long[] next = new long[b];
      Arrays.fill(next, 5);
      long t0 = System.nanoTime();
      INDArray bias = AttentionMasks.causal(valid, t, 1, model.dims().groups(), model.dims().slidingWindow());
      CausalLM.StepOutput out = model.run(Nd4j.createFromArray(next).reshape(b, 1), pos, bias, cache[0], true, true);
      out.logits().toFloatMatrix();
      times[s] = (System.nanoTime() - t0) / 1e9;
      cache[0].close();
      cache[0] = out.cache();
    }
    cache[0].close();
    Arrays.sort(times);
    return times[steps / 2];
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
