package org.promptrecovery4j.training.head;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.AtomicFiles;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.core.Npy;
import org.promptrecovery4j.models.bench.EncoderBench;
import org.promptrecovery4j.models.bench.RandomWeights;
import org.promptrecovery4j.training.optim.AdamW;
import org.promptrecovery4j.weights.SafetensorsWriter;
import org.promptrecovery4j.weights.TensorInfo;
import org.promptrecovery4j.weights.WeightSource;
import org.promptrecovery4j.weights.config.DebertaV2Config;

/**
 * train-regressor at a real shape: a DeBERTa-v3-large-shaped ({@code -Dpr4j.bench.shape=base}: -base-shaped) folder of
 * random weights (made once in {@code pr4j.bench.dir}, default /tmp/pr4j-bench-deberta-v3-SHAPE; the tokenizer of the
 * tiny fixture), the top
 * {@code pr4j.bench.top} layers unfrozen (default 2), the seed's head 4096 → 32256 → 768, batch {@code pr4j.bench.batch}
 * (default 4) of texts cut to {@code pr4j.bench.length} tokens (default 128), {@code pr4j.bench.steps} steps (default
 * 20, one epoch, no validation; the epoch's outputs and checkpoint are written at the end). Prints each progress line
 * with the process's RSS, also appended to {@code pr4j.bench.log} (default /tmp/pr4j-bench-regressor.log) as
 * it comes; asserts nothing. Run with {@code -Dpr4j.bench=true}.
 */
@EnabledIfSystemProperty(named = "pr4j.bench", matches = "true")
class RegressorTrainerBenchTest {

  @Test
  void debertaLargeTopLayersTraining() throws Exception {
    int top = Integer.getInteger("pr4j.bench.top", 2);
    int batch = Integer.getInteger("pr4j.bench.batch", 4);
    int length = Integer.getInteger("pr4j.bench.length", 128);
    int steps = Integer.getInteger("pr4j.bench.steps", 20);
    String shape = System.getProperty("pr4j.bench.shape", "large");
    String config = shape.equals("base") ? DEBERTA_V3_BASE : EncoderBench.DEBERTA_V3_LARGE;
    Path model = Path.of(System.getProperty("pr4j.bench.dir", "/tmp/pr4j-bench-deberta-v3-" + shape));
    if (!Files.isDirectory(model)) {
      makeFolder(model, config);
    }
    int width = 4 * ((DebertaV2Config) EncoderBench.config(config)).hiddenSize();
    Path work = Files.createTempDirectory("pr4j-bench-regressor");
    int rows = batch * steps;
    Random r = new Random(1);
    List<List<String>> csv = new ArrayList<>();
    String[] words = {"the", "meeting", "moved", "to", "tuesday", "quarterly", "report", "fox", "harbour", "bells",
        "fishermen", "poem", "rewrite", "shanty", "formal", "letter", "summary", "children", "morning", "noon"};
    for (int i = 0; i < rows; i++) {
      csv.add(List.of("r" + i, text(r, words, 4 * length), text(r, words, 4 * length)));
    }
    Csv.write(work.resolve("train.csv"), List.of("id", "original_text", "rewritten_text"), csv);
    float[][] y = new float[rows][768];
    for (float[] row : y) {
      for (int j = 0; j < row.length; j++) {
        row[j] = (float) r.nextGaussian();
      }
    }
    Npy.writeFloat32(work.resolve("targets.npy"), y);
    RegressorTrainer.Options o = new RegressorTrainer.Options(top, length, 1, steps, batch, AdamW.Settings.seed(1e-3),
        2e-5, 1.0, HeadLoss.COSINE, 0, 42, RegressionHead.Config.SEED_HIDDEN, true, null, 0);
    resetPeakRss();
    report(String.format(Locale.ROOT, "DeBERTa-v3-%s shapes (head %d → 32256 → 768), top %d layers, batch %d x %d tokens,"
        + " %d steps; start: %s", shape, width, top, batch, length, steps, HeadBenchTest.rss()));
    long t0 = System.nanoTime();
    RegressorTrainer.train(model, work.resolve("train.csv"), work.resolve("targets.npy"), work.resolve("out"), o,
        new PrintStream(new WithRss(t0), true, StandardCharsets.UTF_8));
    report(String.format(Locale.ROOT, "done in %.1f s: %s", (System.nanoTime() - t0) / 1e9, HeadBenchTest.rss()));
    AtomicFiles.discardFolder(work);
  }

  static String text(Random r, String[] words, int n) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < n; i++) {
      b.append(i == 0 ? "" : " ").append(words[r.nextInt(words.length)]);
    }
    return b.toString();
  }

  /** microsoft/deberta-v3-base config.json. */
  static final String DEBERTA_V3_BASE = EncoderBench.DEBERTA_V3_LARGE.replace("\"hidden_size\": 1024", "\"hidden_size\": 768")
      .replace("\"num_hidden_layers\": 24", "\"num_hidden_layers\": 12").replace("\"num_attention_heads\": 16", "\"num_attention_heads\": 12")
      .replace("\"intermediate_size\": 4096", "\"intermediate_size\": 3072");

  /** Where the lines also go, as they come (a run killed for memory leaves them). */
  static final Path LOG = Path.of(System.getProperty("pr4j.bench.log", "/tmp/pr4j-bench-regressor.log"));

  static void report(String line) {
    System.out.println(line);
    try {
      Files.writeString(LOG, line + "\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
    } catch (IOException e) {
      System.out.println("(cannot append to " + LOG + ": " + e + ")");
    }
  }

  /** The folder: the config, random F32 weights, the tiny fixture's tokenizer. */
  static void makeFolder(Path dir, String configJson) throws IOException {
    Path tiny = RegressorTrainerTest.MODEL;
    Path staging = AtomicFiles.stagingFolder(dir);
    byte[] config = configJson.getBytes(StandardCharsets.UTF_8);
    AtomicFiles.write(staging.resolve("config.json"), out -> out.write(config));
    for (String f : List.of("spm.model", "tokenizer_config.json")) {
      byte[] b = Files.readAllBytes(tiny.resolve(f));
      AtomicFiles.write(staging.resolve(f), out -> out.write(b));
    }
    try (WeightSource w = new Materialized(EncoderBench.randomDebertaWeights((DebertaV2Config) EncoderBench.config(configJson)))) {
      SafetensorsWriter.write(staging.resolve("model.safetensors"), w);
    }
    AtomicFiles.publishFolder(staging, dir);
  }

  /** Random weights with bytes, one tensor made at a time (the previous one freed). */
  static final class Materialized implements WeightSource {
    private final RandomWeights random;
    private String name;
    private INDArray array;

    Materialized(RandomWeights random) {
      this.random = random;
    }

    @Override
    public Path location() {
      return random.location();
    }

    @Override
    public List<String> names() {
      return random.names();
    }

    @Override
    public boolean contains(String n) {
      return random.contains(n);
    }

    @Override
    public TensorInfo info(String n) {
      return random.info(n);
    }

    @Override
    public ByteBuffer bytes(String n) {
      if (!n.equals(name)) {
        if (array != null) {
          array.close();
        }
        array = random.loadFloat(n);
        name = n;
      }
      return array.data().asNio().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public ByteBuffer bytes(String n, long from, long len) {
      return bytes(n).slice(Math.toIntExact(from), Math.toIntExact(len)).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void close() {
      if (array != null) {
        array.close();
      }
    }
  }

  /** Resets VmHWM (Linux), so that the peak is the training's, not the folder's making. */
  static void resetPeakRss() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
    } catch (IOException | UnsupportedOperationException e) {
      System.out.println("(cannot reset the peak RSS: " + e + ")");
    }
  }

  /** Prints each line of the trainer's log with the seconds since the start and the process's RSS. */
  static final class WithRss extends OutputStream {
    private final long t0;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    WithRss(long t0) {
      this.t0 = t0;
    }

    @Override
    public void write(int b) {
      if (b == '\n') {
        report(String.format(Locale.ROOT, "[%7.1f s] %s %s", (System.nanoTime() - t0) / 1e9,
            line.toString(StandardCharsets.UTF_8), HeadBenchTest.rss()));
        line.reset();
      } else {
        line.write(b);
      }
    }
  }
}
