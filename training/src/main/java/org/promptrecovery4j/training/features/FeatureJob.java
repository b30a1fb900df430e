package org.promptrecovery4j.training.features;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.core.Npy;
import org.promptrecovery4j.core.Progress;
import org.promptrecovery4j.models.nn.LinearPrecision;

/**
 * The {@code features} job: a CSV of (original, rewritten) rows → {@link DebertaFeatures} of every row, float32
 * [rows, 4 × hidden] in {@code .npy}, rows in input order. Resumable: finished batches go to
 * {@code OUTPUT.partial} (see {@link PartialFeatures}) beside {@code OUTPUT.partial.json} (the input's hash, the
 * model's fingerprint and the settings, see {@link ResumeState}); a killed run loses at most the batch in flight,
 * and the next run with the same input and settings goes on from there. The {@code .npy} is written atomically at
 * the end, then both side files are removed.
 *
 * <p>Test hook (never set outside tests): with {@value #PAUSE_AFTER_BATCHES_PROPERTY} = N the job stops after its
 * N-th appended batch, creates the file named by {@value #PAUSE_MARKER_PROPERTY} and sleeps, to be killed.
 */
public final class FeatureJob {

  /** Test hook: sleep after this many batches of this run are on disk. */
  public static final String PAUSE_AFTER_BATCHES_PROPERTY = "pr4j.test.features.pauseAfterBatches";

  /** Test hook: the file created when the job pauses. */
  public static final String PAUSE_MARKER_PROPERTY = "pr4j.test.features.pauseMarker";

  /**
   * What to compute: the model folder, the CSV and its columns, the output, the batch size and max length, and the
   * precision of the model's linear layers.
   */
  public record Settings(Path model, Path input, Path output, int batchSize, int maxLength, String originalColumn,
      String rewrittenColumn, LinearPrecision compute) {

    /** Float32 compute. */
    public Settings(Path model, Path input, Path output, int batchSize, int maxLength, String originalColumn,
        String rewrittenColumn) {
      this(model, input, output, batchSize, maxLength, originalColumn, rewrittenColumn, LinearPrecision.FLOAT32);
    }

    /** The seed's settings: batch 8, max length 384, columns {@code original_text} and {@code rewritten_text}, float32. */
    public static Settings of(Path model, Path input, Path output) {
      return new Settings(model, input, output, 8, DebertaFeatures.DEFAULT_MAX_LENGTH, "original_text",
          "rewritten_text");
    }

    public Settings withBatchSize(int b) {
      return new Settings(model, input, output, b, maxLength, originalColumn, rewrittenColumn, compute);
    }

    public Settings withMaxLength(int m) {
      return new Settings(model, input, output, batchSize, m, originalColumn, rewrittenColumn, compute);
    }

    public Settings withCompute(LinearPrecision c) {
      return new Settings(model, input, output, batchSize, maxLength, originalColumn, rewrittenColumn, c);
    }
  }

  /** What a run did: the rows and width of the array written, and how many rows an earlier run had finished. */
  public record Result(int rows, int width, int resumedRows) {}

  private FeatureJob() {}

  /** {@code OUTPUT.partial}: the finished rows of an unfinished run. */
  public static Path partialFile(Path output) {
    return org.promptrecovery4j.core.JobState.partialFile(output);
  }

  /** {@code OUTPUT.partial.json}: what the unfinished run was started with. */
  public static Path stateFile(Path output) {
    return org.promptrecovery4j.core.JobState.stateFile(output);
  }

  /** Runs (or resumes) the job and writes the output. */
  public static Result run(Settings s) throws IOException {
    if (s.batchSize() < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, is " + s.batchSize());
    }
    List<String>[] texts = readTexts(s);
    DebertaFeatures features = DebertaFeatures.open(s.model(), s.maxLength(), s.compute());
    List<int[]> originals = texts[0].stream().map(features::encode).toList();
    List<int[]> rewritten = texts[1].stream().map(features::encode).toList();
    int rows = originals.size();
    int[] order = DebertaFeatures.lengthOrder(originals, rewritten);
    Map<String, Object> state = ResumeState.of(s.input(), s.model(), s.originalColumn(), s.rewrittenColumn(),
        s.maxLength(), s.batchSize(), s.compute(), rows, features.width());
    ResumeState.startOrCheck(s.output(), state);
    features.checkIds(originals, s.input() + ", column " + s.originalColumn());
    features.checkIds(rewritten, s.input() + ", column " + s.rewrittenColumn());
    int resumed;
    try (PartialFeatures partial = PartialFeatures.resume(partialFile(s.output()), features.width(), order,
        s.batchSize())) {
      resumed = (int) partial.records();
      compute(features, originals, rewritten, order, partial, s);
    }
    writeOutput(s.output(), order, rows, features.width());
    Files.deleteIfExists(partialFile(s.output()));
    Files.deleteIfExists(stateFile(s.output()));
    return new Result(rows, features.width(), resumed);
  }

  /** The two text columns of the CSV, checked by name before anything is loaded. */
  @SuppressWarnings("unchecked")
  private static List<String>[] readTexts(Settings s) throws IOException {
    if (!Files.isRegularFile(s.input())) {
      throw new java.io.FileNotFoundException(s.input() + ": no such file");
    }
    Csv.Table t = Csv.read(s.input());
    int o = t.column(s.originalColumn(), s.input());
    int r = t.column(s.rewrittenColumn(), s.input());
    List<String> originals = new ArrayList<>(t.rows().size());
    List<String> rewritten = new ArrayList<>(t.rows().size());
    for (List<String> row : t.rows()) {
      originals.add(row.get(o));
      rewritten.add(row.get(r));
    }
    return new List[] {originals, rewritten};
  }

  /** The batches not yet in the side file, in order, each appended as it finishes. */
  private static void compute(DebertaFeatures features, List<int[]> originals, List<int[]> rewritten, int[] order,
      PartialFeatures partial, Settings s) throws IOException {
    int done = (int) partial.records();
    if (done > 0) {
      System.err.println("resuming: " + done + " of " + order.length + " rows already in " + partial.file());
    }
    int pauseAfter = Integer.getInteger(PAUSE_AFTER_BATCHES_PROPERTY, -1);
    int batches = 0;
    try (Progress progress = Progress.start("features (rows)", order.length - done, Progress.Unit.ITEMS)) {
      for (int start = done; start < order.length; start += s.batchSize()) {
        int[] batch = Arrays.copyOfRange(order, start, Math.min(order.length, start + s.batchSize()));
        float[][] f = features.rows(DebertaFeatures.pick(originals, batch), DebertaFeatures.pick(rewritten, batch));
        partial.append(batch, f);
        progress.advance(batch.length);
        if (++batches == pauseAfter) {
          pauseForTest();
        }
      }
    }
  }

  /** The final array, in input order, read back from the side file. */
  private static void writeOutput(Path output, int[] order, int rows, int width) throws IOException {
    long[] positions = PartialFeatures.positions(order, rows);
    try (FileChannel ch = FileChannel.open(partialFile(output), StandardOpenOption.READ)) {
      Npy.writeFloat32(output, rows, width, r -> PartialFeatures.read(ch, width, positions[(int) r]));
    }
  }

  private static void pauseForTest() throws IOException {
    org.promptrecovery4j.core.TestHooks.pauseUntilKilled(PAUSE_MARKER_PROPERTY, "features (" + PAUSE_AFTER_BATCHES_PROPERTY + ")");
  }
}
