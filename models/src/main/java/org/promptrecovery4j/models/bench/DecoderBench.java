package org.promptrecovery4j.models.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.DecoderCompute;
import org.promptrecovery4j.models.Models;
import org.promptrecovery4j.models.generation.AttentionMasks;
import org.promptrecovery4j.models.generation.CausalLM;
import org.promptrecovery4j.models.generation.DecoderOptions;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;
import org.promptrecovery4j.models.generation.GenerationConfig;
import org.promptrecovery4j.models.generation.Generator;
import org.promptrecovery4j.models.generation.KvCache;
import org.promptrecovery4j.models.generation.TokenDecoder;

/**
 * The JVM side of the decoder benchmark; {@code tools/reference/bench_decoders.py torch DIR} is the PyTorch side,
 * with the same definitions. Everything times the model's forward with a KV cache ({@link CausalLM#run}, no
 * generate loop) on random ids (not PyTorch's: timing does not depend on the values):
 * <ul>
 *   <li>prefill: batch 1 of 64 and of 512 tokens, logits of the last position and the cache (median of
 *       {@code runs});
 *   <li>decode tokens/s at batch 1 and 16: batch / median time of one step (one new token per row, the cache of
 *       a 64-token prompt growing over 16 steps, logits of the new position);
 *   <li>peak RSS: VmHWM of {@code /proc/self/status}, GiB.
 * </ul>
 * Also issue 5's memory phases ({@link #phases}: RSS after load, prefill and each decode step) and an
 * RSS-over-time sampler on a long {@link Generator#generate} run ({@link #memory}). Each measurement prints a
 * line to the log as it finishes.
 */
public final class DecoderBench implements AutoCloseable {

  /** Prefill lengths, decode prompt length and steps (bench_decoders.py's). */
  public static final int SHORT_PREFILL = 64;
  public static final int LONG_PREFILL = 512;
  public static final int DECODE_PROMPT = 64;
  public static final int DECODE_STEPS = 16;
  public static final int[] DECODE_BATCHES = {1, 16};

  private static final double GIB = 1L << 30;

  /** What loading cost. {@code compute}: {@link DecoderCompute#name}; {@code threads}: ND4J's threads. */
  public record Load(String model, String compute, double loadS, double weightGib, int threads,
      double rssAfterLoadGib, double anonAfterLoadGib, double fileAfterLoadGib, double heapUsedGib) {}

  /** The speed measurements (the JSON keys of bench_decoders.py once snake-cased), after {@code warmupRounds}. */
  public record Speed(double prefill64S, double prefill512S, double decodeB1TokS, double decodeB16TokS,
      double peakRssGib, int warmupRounds) {}

  /** One RSS reading: seconds since the start of its run, anonymous RSS and peak RSS (VmHWM), GiB. */
  public record RssSample(double elapsedS, double anonGib, double peakGib) {}

  /** Issue 5's memory phases: peak RSS after load, after a 64-token prefill, after 16 decode steps at batch 1. */
  public record Phases(double peakAfterLoadGib, double prefill64S, double peakAfterPrefillGib,
      double anonAfterPrefillGib, List<RssSample> steps, double decode16B1TokS, double peakAfterDecodeGib,
      double anonAfterDecodeGib) {}

  /** A timed generation run: its length, the tokens it generated, and RSS sampled over it. */
  public record MemoryRun(double seconds, int batch, long generatedTokens, List<RssSample> samples) {}

  private final CausalLM model;
  private final Load load;
  private final PrintStream log;

  private DecoderBench(CausalLM model, Load load, PrintStream log) {
    this.model = model;
    this.load = load;
    this.log = log;
  }

  /** Loads a causal LM folder (or llama2.c file) with the given weight storage, timing it. */
  public static DecoderBench load(Path dir, WeightStorage storage, PrintStream log) throws IOException {
    long t0 = System.nanoTime();
    CausalLM model = Models.loadCausalLM(dir, DecoderOptions.defaults().withStorage(storage));
    double seconds = (System.nanoTime() - t0) / 1e9;
    Runtime rt = Runtime.getRuntime();
    Load load = new Load(dir.toString(), DecoderCompute.name(storage), seconds, model.weightBytes() / GIB, threads(),
        rssGib("VmRSS"), rssGib("RssAnon"), rssGib("RssFile"), (rt.totalMemory() - rt.freeMemory()) / GIB);
    log.printf(Locale.ROOT, "loaded %s (%s) in %.1f s: %.2f GiB of weights, RSS %.2f GiB, %d threads%n", dir,
        load.compute(), seconds, load.weightGib(), load.rssAfterLoadGib(), load.threads());
    return new DecoderBench(model, load, log);
  }

  public CausalLM model() {
    return model;
  }

  public Load loadFacts() {
    return load;
  }

  /**
   * Prefill 64 and 512 tokens ({@code runs} times each, medians) and decode at batch 1 and 16, after a prefill of 16
   * tokens and {@code warmup} untimed rounds of the four measurements (bench_decoders.py's {@code --warmup}: the same
   * on both sides). A JVM runs its first passes slowly (the JIT compiles SameDiff's session code as it runs, oneDNN
   * creates its kernels for new shapes): measured on phi-2 ×4 float32, decode at batch 1 went 8.5, 13, 16 tokens/s over
   * its first three 16-step runs. Each warm-up round's figures are logged: the first is the cold start.
   */
  public Speed speed(int runs, int warmup) {
    if (runs < 1 || warmup < 0) {
      throw new IllegalArgumentException("runs must be >= 1 and warm-up rounds >= 0, are " + runs + " and " + warmup);
    }
    needContext(Math.max(LONG_PREFILL, DECODE_PROMPT + DECODE_STEPS));
    prefill(1, 16, null); // warm-up (bench_decoders.py's)
    for (int w = 1; w <= warmup; w++) {
      double p64 = prefill(1, SHORT_PREFILL, null);
      double p512 = prefill(1, LONG_PREFILL, null);
      double b1 = 1 / decodeStep(1, DECODE_PROMPT, DECODE_STEPS);
      double b16 = 16 / decodeStep(16, DECODE_PROMPT, DECODE_STEPS);
      log.printf(Locale.ROOT, "warm-up round %d of %d: prefill 64 %.3f s, 512 %.3f s, decode batch 1 %.2f, batch 16 %.2f tokens/s%n",
          w, warmup, p64, p512, b1, b16);
    }
    double[] p64 = new double[runs];
    double[] p512 = new double[runs];
    for (int r = 0; r < runs; r++) {
      p64[r] = prefill(1, SHORT_PREFILL, null);
    }
    double prefill64 = median(p64);
    log.printf(Locale.ROOT, "prefill %d tokens: %.3f s (median of %d), peak RSS %.2f GiB%n", SHORT_PREFILL,
        prefill64, runs, rssGib("VmHWM"));
    for (int r = 0; r < runs; r++) {
      p512[r] = prefill(1, LONG_PREFILL, null);
    }
    double prefill512 = median(p512);
    log.printf(Locale.ROOT, "prefill %d tokens: %.3f s (median of %d), peak RSS %.2f GiB%n", LONG_PREFILL,
        prefill512, runs, rssGib("VmHWM"));
    double[] tokS = new double[DECODE_BATCHES.length];
    for (int i = 0; i < tokS.length; i++) {
      int b = DECODE_BATCHES[i];
      tokS[i] = b / decodeStep(b, DECODE_PROMPT, DECODE_STEPS);
      log.printf(Locale.ROOT, "decode batch %d: %.2f tokens/s, peak RSS %.2f GiB%n", b, tokS[i], rssGib("VmHWM"));
    }
    return new Speed(prefill64, prefill512, tokS[0], tokS[1], rssGib("VmHWM"), warmup);
  }

  /**
   * Issue 5's memory measurement: peak RSS after load, after a prefill of 64 tokens, and after 16 decode steps
   * at batch 1 (each step's RSS logged and kept), and the decode speed over the 16 steps.
   */
  public Phases phases() {
    needContext(SHORT_PREFILL + DECODE_STEPS);
    double peakAfterLoad = rssGib("VmHWM");
    KvCache[] cache = new KvCache[1];
    double pre = prefill(1, SHORT_PREFILL, cache);
    double peakAfterPrefill = rssGib("VmHWM");
    double anonAfterPrefill = rssGib("RssAnon");
    log.printf(Locale.ROOT, "prefill %d tokens: %.3f s, peak RSS %.2f GiB, anonymous %.2f GiB%n", SHORT_PREFILL,
        pre, peakAfterPrefill, anonAfterPrefill);
    List<RssSample> steps = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int s = 0; s < DECODE_STEPS; s++) {
      int t = SHORT_PREFILL + s;
      boolean[][] valid = new boolean[1][t + 1];
      Arrays.fill(valid[0], true);
      INDArray bias = AttentionMasks.causal(valid, t, 1, model.dims().groups(), model.dims().slidingWindow());
      CausalLM.StepOutput out =
          model.run(Nd4j.createFromArray(5L).reshape(1, 1), new int[][] {{t}}, bias, cache[0], true, true);
      out.logits().toFloatMatrix();
      cache[0].close();
      cache[0] = out.cache();
      RssSample r = new RssSample((System.nanoTime() - t0) / 1e9, rssGib("RssAnon"), rssGib("VmHWM"));
      steps.add(r);
      log.printf(Locale.ROOT, "decode step %d: %.2f s, anonymous RSS %.2f GiB, peak %.2f GiB%n", s, r.elapsedS(),
          r.anonGib(), r.peakGib());
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    cache[0].close();
    return new Phases(peakAfterLoad, pre, peakAfterPrefill, anonAfterPrefill, List.copyOf(steps),
        DECODE_STEPS / secs, rssGib("VmHWM"), rssGib("RssAnon"));
  }

  /**
   * Generates (greedy, no EOS, {@code batch} random prompts of 64 tokens, as many tokens as the context allows up
   * to 256 per call, call after call) for {@code duration}, reading RSS at the start, every {@code every} and at
   * the end: whether memory stays flat over a long generation. Stops within one decode step of {@code duration}.
   */
  public MemoryRun memory(Duration duration, Duration every, int batch) {
    if (duration.isNegative() || duration.isZero() || every.isNegative() || every.isZero() || batch < 1) {
      throw new IllegalArgumentException("memory run: duration and interval must be > 0, batch >= 1");
    }
    needContext(DECODE_PROMPT + 1);
    int newTokens = Math.min(256, model.dims().maxPositions() - DECODE_PROMPT);
    Generator gen = new Generator(model);
    List<RssSample> samples = new ArrayList<>();
    AtomicLong tokens = new AtomicLong();
    long t0 = System.nanoTime();
    Runnable sample = () -> {
      RssSample r = new RssSample((System.nanoTime() - t0) / 1e9, rssGib("RssAnon"), rssGib("VmHWM"));
      synchronized (samples) {
        samples.add(r);
      }
      log.printf(Locale.ROOT, "memory %.1f s: anonymous RSS %.2f GiB, peak %.2f GiB, %d tokens generated%n",
          r.elapsedS(), r.anonGib(), r.peakGib(), tokens.get());
    };
    ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "rss-sampler");
      t.setDaemon(true);
      return t;
    });
    sampler.scheduleAtFixedRate(sample, 0, every.toNanos(), TimeUnit.NANOSECONDS);
    try {
      // the deadline as a stop string: the decoder, asked once per row and token, counts the tokens as they come
      // and stops every row once the time is up (so the run ends within a step of it)
      long end = t0 + duration.toNanos();
      String deadline = "\u0000deadline";
      TokenDecoder clock = ids -> {
        tokens.incrementAndGet();
        return System.nanoTime() >= end ? deadline : "";
      };
      GenerationConfig config =
          GenerationConfig.greedy(newTokens).withMaxBatchSize(batch).withStopStrings(List.of(deadline));
      long done = 0;
      for (int call = 0; System.nanoTime() < end; call++) {
        for (Generator.Result r : gen.generate(prompts(batch, DECODE_PROMPT, call), config, clock)) {
          done += r.generatedIds().length;
        }
        tokens.set(done); // the exact count (a row's last decode for its result counted once more)
      }
    } finally {
      sampler.shutdown();
    }
    try {
      sampler.awaitTermination(1, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    sample.run();
    return new MemoryRun((System.nanoTime() - t0) / 1e9, batch, tokens.get(), List.copyOf(samples));
  }

  /** Seconds of one prefill of [b, len] random ids (last-position logits and the cache); the cache goes to {@code keep}. */
  public double prefill(int b, int len, KvCache[] keep) {
    long[] ids = new Random(0).longs((long) b * len, 3, model.dims().vocabSize()).toArray();
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

  /** Median seconds of one decode step (one new token per row, the cache of a {@code len}-token prompt growing). */
  public double decodeStep(int b, int len, int steps) {
    KvCache[] cache = new KvCache[1];
    prefill(b, len, cache);
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
    return median(times);
  }

  /**
   * One JSON object: the load facts, then each result's fields (records as snake_case keys: {@code prefill64_s},
   * {@code decode_b1_tok_s}, ...; a {@link MemoryRun} under {@code "memory"}), then {@code peak_rss_gib} read now.
   */
  public ObjectNode report(Object... results) {
    ObjectMapper json = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    ObjectNode out = json.valueToTree(load);
    for (Object r : results) {
      if (r instanceof MemoryRun m) {
        out.set("memory", json.valueToTree(m));
      } else if (r != null) {
        out.setAll((ObjectNode) json.valueToTree(r));
      }
    }
    out.put("peak_rss_gib", rssGib("VmHWM"));
    return out;
  }

  @Override
  public void close() {
    model.close();
  }

  /** ND4J's threads per op (OMP), else the processors the JVM sees. */
  public static int threads() {
    try {
      int n = Nd4j.getEnvironment().maxThreads();
      return n > 0 ? n : Runtime.getRuntime().availableProcessors();
    } catch (RuntimeException | LinkageError e) {
      return Runtime.getRuntime().availableProcessors();
    }
  }

  /** A field of {@code /proc/self/status} in GiB (VmHWM, VmRSS, RssAnon, RssFile), -1 where there is none. */
  public static double rssGib(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(field + ":")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / (double) (1L << 20);
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  private void needContext(int tokens) {
    int context = model.dims().maxPositions();
    if (context < tokens) {
      throw new IllegalArgumentException(load.model() + ": the benchmark needs a context of " + tokens
          + " tokens, the model has " + context + " (max_position_embeddings)");
    }
  }

  /** {@code batch} random prompts of {@code length} ids in [3, vocab), seeded. */
  private List<int[]> prompts(int batch, int length, long seed) {
    Random r = new Random(seed);
    List<int[]> out = new ArrayList<>();
    for (int i = 0; i < batch; i++) {
      out.add(r.ints(length, 3, model.dims().vocabSize()).toArray());
    }
    return out;
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
}
