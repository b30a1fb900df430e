package org.promptrecovery4j.models.bert;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.models.builtin.BuiltinModels;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;
import org.promptrecovery4j.tokenizer.Tokenizer;
import org.promptrecovery4j.tokenizer.Tokenizers;

/**
 * Speed of the built-in all-MiniLM-L6-v2 against onnxruntime Java on the same ONNX file, side by side in one JVM:
 * sentences per second embedding N real texts of {@code ../shared/data/gemma_rewrites.csv} (original_text of every
 * row, then rewritten_text, the first N; default 2,000), batch 32, max 256 tokens, 2 threads, both through the same
 * pipeline (tokenize, sort by length, pad per batch, mean pooling, L2 normalisation). Runs only with
 * {@code -Dpr4j.bench.minilm=true}; prints one {@code BENCH} JSON line and asserts nothing but agreement.
 *
 * <pre>mvn -B -ntp test -pl models -am -Dtest=MiniLmBenchTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dpr4j.fuzz.skip=true -Dpr4j.bench.minilm=true [-Dpr4j.bench.texts=2000] [-Dpr4j.bench.runs=3]</pre>
 */
class MiniLmBenchTest {

  @Test
  void bench() throws Exception {
    Assumptions.assumeTrue(Boolean.getBoolean("pr4j.bench.minilm"), "benchmark: give -Dpr4j.bench.minilm=true");
    Path csv = Path.of(System.getProperty("pr4j.shared", "../shared"), "data", "gemma_rewrites.csv");
    Assumptions.assumeTrue(Files.isRegularFile(csv), "skipped: " + csv + " is absent");
    int n = Integer.getInteger("pr4j.bench.texts", 2000);
    int runs = Integer.getInteger("pr4j.bench.runs", 3);
    int threads = Integer.getInteger("pr4j.bench.threads", 2);
    List<String> texts = texts(csv, n);

    Path dir = BuiltinModels.folder(BuiltinModels.ALL_MINILM_L6_V2);
    SentenceEmbedder ours = SentenceEmbedder.load(dir, 32);
    Tokenizer tok = Tokenizers.load(dir).withTruncation(256);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setIntraOpNumThreads(threads);
    options.setInterOpNumThreads(1);
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    try (OrtSession ort = env.createSession(dir.resolve("model.onnx").toString(), options)) {
      List<String> warm = texts.subList(0, 64);
      ours.embed(warm);
      ortEmbed(env, ort, tok, warm);
      double[] tOurs = new double[runs];
      double[] tOrt = new double[runs];
      float[][] a = null;
      float[][] b = null;
      for (int r = 0; r < runs; r++) { // interleaved, so that both see the same machine
        long t0 = System.nanoTime();
        a = ours.embed(texts);
        tOurs[r] = (System.nanoTime() - t0) / 1e9;
        t0 = System.nanoTime();
        b = ortEmbed(env, ort, tok, texts);
        tOrt[r] = (System.nanoTime() - t0) / 1e9;
      }
      double diff = 0;
      for (int i = 0; i < a.length; i++) {
        for (int k = 0; k < a[i].length; k++) {
          diff = Math.max(diff, Math.abs(a[i][k] - b[i][k]));
        }
      }
      if (diff > 1e-4) {
        throw new AssertionError("SameDiff and onnxruntime disagree: max |diff| " + diff);
      }
      Arrays.sort(tOurs);
      Arrays.sort(tOrt);
      double ourRate = n / tOurs[runs / 2];
      double ortRate = n / tOrt[runs / 2];
      System.out.println(String.format(Locale.ROOT, "BENCH {\"texts\":%d,\"batch\":32,\"max_len\":256,\"threads\":%d,"
          + "\"runs\":%d,\"samediff_s\":%s,\"onnxruntime_s\":%s,\"samediff_per_s\":%.1f,\"onnxruntime_per_s\":%.1f,"
          + "\"ratio_samediff_over_ort\":%.3f,\"max_abs_diff\":%.3g}", n, threads, runs, Arrays.toString(tOurs),
          Arrays.toString(tOrt), ourRate, ortRate, ourRate / ortRate, diff));
    }
  }

  static List<String> texts(Path csv, int n) throws Exception {
    Csv.Table t = Csv.read(csv);
    int orig = t.column("original_text", csv);
    int rewritten = t.column("rewritten_text", csv);
    List<String> out = new ArrayList<>();
    t.rows().forEach(r -> out.add(r.get(orig)));
    t.rows().forEach(r -> out.add(r.get(rewritten)));
    if (out.size() < n) {
      throw new IllegalStateException(csv + " has " + out.size() + " texts, " + n + " asked for");
    }
    return out.subList(0, n);
  }

  /** The same pipeline as SentenceEmbedder, with onnxruntime computing the encoder. */
  static float[][] ortEmbed(OrtEnvironment env, OrtSession ort, Tokenizer tok, List<String> texts) throws Exception {
    List<int[]> ids = new ArrayList<>();
    for (String t : texts) {
      ids.add(tok.encode(t, true).ids());
    }
    int[] order = IntStream.range(0, ids.size()).boxed().sorted(Comparator.comparingInt(i -> ids.get(i).length))
        .mapToInt(Integer::intValue).toArray();
    float[][] out = new float[ids.size()][];
    for (int start = 0; start < order.length; start += 32) {
      int n = Math.min(32, order.length - start);
      int len = ids.get(order[start + n - 1]).length;
      long[][] batch = new long[n][len];
      long[][] mask = new long[n][len];
      for (int b = 0; b < n; b++) {
        int[] row = ids.get(order[start + b]);
        for (int i = 0; i < row.length; i++) {
          batch[b][i] = row[i];
          mask[b][i] = 1;
        }
      }
      try (OnnxTensor tIds = OnnxTensor.createTensor(env, batch);
          OnnxTensor tMask = OnnxTensor.createTensor(env, mask);
          OnnxTensor tTypes = OnnxTensor.createTensor(env, new long[n][len]);
          OrtSession.Result r = ort.run(Map.of("input_ids", tIds, "attention_mask", tMask, "token_type_ids", tTypes))) {
        float[][][] h = (float[][][]) r.get(0).getValue();
        for (int b = 0; b < n; b++) {
          out[order[start + b]] = meanNormalize(h[b], ids.get(order[start + b]).length);
        }
      }
    }
    return out;
  }

  static float[] meanNormalize(float[][] tokens, int real) {
    float[] v = new float[tokens[0].length];
    for (int i = 0; i < real; i++) {
      for (int k = 0; k < v.length; k++) {
        v[k] += tokens[i][k];
      }
    }
    double norm = 0;
    for (float x : v) {
      norm += (double) (x / real) * (x / real);
    }
    norm = Math.max(Math.sqrt(norm), 1e-12);
    for (int k = 0; k < v.length; k++) {
      v[k] = (float) (v[k] / real / norm);
    }
    return v;
  }
}
