package org.promptrecovery4j.recovery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.promptrecovery4j.core.AtomicFiles;
import org.promptrecovery4j.core.Progress;
import org.promptrecovery4j.core.PythonText;
import org.promptrecovery4j.evaluation.Submission;

/**
 * The product's main job: every row of a Kaggle CSV gets a recovered prompt, written as a submission
 * ({@code id,rewrite_prompt}, input order, every id once, never a blank prompt).
 *
 * <p>Resumable: finished rows are appended, batch by batch, to {@code OUTPUT.partial} (a first line naming the job:
 * the input file's SHA-256 and the config; then one JSON line per row, forced to disk), so a killed run started
 * again with the same arguments redoes no finished row and duplicates none; the submission is written atomically
 * once every row is done, and the partial file removed. A partial file of another job (other input or config) is
 * an error. A row whose recovery fails (an exception in any recoverer) is retried alone; if it fails again it gets
 * the fallback prompt and is reported (stderr and {@link Result#failed}), and the other rows go on.
 */
public final class PredictJob {

  /** Test hook (never set outside tests): pause until killed after this many batches of this run are written. */
  public static final String PAUSE_AFTER_BATCHES_PROPERTY = "pr4j.test.predict.pauseAfterBatches";
  public static final String PAUSE_MARKER_PROPERTY = "pr4j.test.predict.pauseMarker";

  private static final ObjectMapper JSON = new ObjectMapper();

  /** What a run did: rows in the file, rows found done from an earlier run, rows that got the fallback. */
  public record Result(int rows, int resumed, int failed, Path output) {}

  private PredictJob() {}

  /** Recovers the prompts of {@code input} into {@code output} with the recoverers of {@code config}. */
  public static Result run(Path input, Path output, RecoveryConfig config, PrintStream log) throws IOException {
    KaggleTable table = KaggleCsv.read(input);
    Path partial = output.resolveSibling(output.getFileName() + ".partial");
    String identity = identity(input, config);
    Map<String, String[]> done = readPartial(partial, identity, table);
    int resumed = done.size();
    List<KaggleRow> todo = table.rows().stream().filter(r -> !done.containsKey(r.id())).toList();
    if (resumed > 0) {
      log.printf(Locale.ROOT, "predict: resuming %s: %d of %d rows already done%n", partial, resumed, table.rows().size());
    }
    int failed = (int) done.values().stream().filter(v -> v[1] != null).count();
    if (!todo.isEmpty()) {
      try (EnsembleRecoverer recoverer = config.build();
          AtomicFiles.Appender out = AtomicFiles.openAppender(partial, keptBytes(partial, identity, done.size()))) {
        if (out.size() == 0) {
          out.append((identity + "\n").getBytes(StandardCharsets.UTF_8));
        }
        failed += predict(todo, recoverer, config, out, done, log);
      }
    }
    List<Submission.Row> rows = new ArrayList<>(table.rows().size());
    for (KaggleRow r : table.rows()) {
      rows.add(new Submission.Row(r.id(), done.get(r.id())[0]));
    }
    Submission.write(output, rows);
    Files.deleteIfExists(partial);
    log.printf(Locale.ROOT, "predict: wrote %d prompts to %s%s%s%n", rows.size(), output,
        resumed > 0 ? " (" + resumed + " from the earlier run)" : "",
        failed > 0 ? "; " + failed + " rows failed and got the fallback prompt" : "");
    return new Result(rows.size(), resumed, failed, output);
  }

  private static int predict(List<KaggleRow> todo, EnsembleRecoverer recoverer, RecoveryConfig config,
      AtomicFiles.Appender out, Map<String, String[]> done, PrintStream log) throws IOException {
    int failed = 0;
    int batches = 0;
    int pauseAfter = Integer.getInteger(PAUSE_AFTER_BATCHES_PROPERTY, -1);
    try (Progress progress = Progress.start("predict", todo.size(), Progress.Unit.ITEMS)) {
      for (int from = 0; from < todo.size(); from += config.batchSize()) {
        List<KaggleRow> batch = todo.subList(from, Math.min(todo.size(), from + config.batchSize()));
        List<Answer> answers = predictBatch(batch, recoverer, config, log);
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < batch.size(); i++) {
          Answer a = answers.get(i);
          failed += a.failed() ? 1 : 0;
          ObjectNode line = JSON.createObjectNode().put("id", batch.get(i).id()).put("prompt", a.prompt());
          if (a.failed()) {
            line.put("error", a.error());
          }
          lines.append(line).append('\n');
          done.put(batch.get(i).id(), new String[] {a.prompt(), a.error()});
        }
        out.append(lines.toString().getBytes(StandardCharsets.UTF_8));
        progress.advance(batch.size());
        if (++batches == pauseAfter) {
          org.promptrecovery4j.core.TestHooks.pauseUntilKilled(PAUSE_MARKER_PROPERTY, "predict");
        }
      }
    }
    return failed;
  }

  /**
   * A row's answer: the prompt (never blank: the fallback when the recoverers answered blank or failed) and, when the
   * row failed, why ({@code null} otherwise).
   */
  public record Answer(String prompt, String error) {
    public boolean failed() {
      return error != null;
    }
  }

  /**
   * One batch of {@code predict}, the step every runner of the job shares (this class; the Spark job): the rows
   * prepared as the config says, recovered at once, else row by row; a row that fails again gets the fallback prompt
   * and its error (logged to {@code log}). One answer per row, in the rows' order; never throws for a failing row.
   */
  public static List<Answer> predictBatch(List<KaggleRow> rows, EnsembleRecoverer recoverer, RecoveryConfig config,
      PrintStream log) {
    return recover(prepare(rows, config), recoverer, recoverer.settings().fallback(), log);
  }

  /** The rows as the recoverers see them: rewritten text cleaned when the config says so. */
  static List<KaggleRow> prepare(List<KaggleRow> rows, RecoveryConfig config) {
    if (!config.cleanRewrittenText()) {
      return rows;
    }
    return rows.stream().map(r -> r.withRewrittenText(RewrittenTextCleaner.clean(r.rewrittenText()))).toList();
  }

  /** An answer per row: the batch at once, else row by row; a failing row gets the fallback. */
  private static List<Answer> recover(List<KaggleRow> batch, PromptRecoverer recoverer, String fallback,
      PrintStream log) {
    List<Answer> out = new ArrayList<>(batch.size());
    try {
      for (String p : recoverer.recoverAll(batch)) {
        out.add(new Answer(PythonText.isBlank(p) ? fallback : p, null));
      }
      return out;
    } catch (RuntimeException | OutOfMemoryError batchFailure) {
      out.clear();
    }
    for (KaggleRow r : batch) {
      try {
        String p = recoverer.recover(r);
        out.add(new Answer(PythonText.isBlank(p) ? fallback : p, null));
      } catch (RuntimeException | OutOfMemoryError e) {
        String why = e.getClass().getSimpleName() + ": " + e.getMessage();
        log.printf(Locale.ROOT, "predict: row %s (line %d) failed, fallback prompt used: %s%n", r.id(), r.line(), why);
        out.add(new Answer(fallback, why));
      }
    }
    return out;
  }

  /** The job's first line: what must agree for a partial file to be resumed. */
  static String identity(Path input, RecoveryConfig config) throws IOException {
    ObjectNode n = JSON.createObjectNode();
    n.put("job", "predict");
    n.put("input_sha256", sha256(input));
    n.put("config", config.canonical());
    return n.toString();
  }

  private static String sha256(Path file) throws IOException {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      try (var in = Files.newInputStream(file)) {
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) {
          md.update(buf, 0, n);
        }
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The finished rows of an earlier run (id → [prompt, error]); whole lines only (a torn last line, from a kill
   * mid-append, is dropped and cut when the file is reopened).
   */
  private static Map<String, String[]> readPartial(Path partial, String identity, KaggleTable table) throws IOException {
    Map<String, String[]> done = new LinkedHashMap<>();
    if (!Files.exists(partial)) {
      return done;
    }
    java.util.Set<String> ids = new java.util.HashSet<>();
    table.rows().forEach(r -> ids.add(r.id()));
    List<String> lines = wholeLines(partial);
    if (lines.isEmpty()) {
      return done;
    }
    if (!lines.get(0).equals(identity)) {
      throw new IllegalArgumentException(partial + " holds an unfinished run of another job (other input file or"
          + " config): delete it to start over, or run with the same input and config to resume it");
    }
    for (int i = 1; i < lines.size(); i++) {
      JsonNode n;
      try {
        n = JSON.readTree(lines.get(i));
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalArgumentException(partial + ": line " + (i + 1) + " is not a finished row (" + e.getOriginalMessage()
            + "); delete the file to start over");
      }
      String id = n.path("id").asText(null);
      String prompt = n.path("prompt").asText(null);
      if (id == null || prompt == null || !ids.contains(id) || done.containsKey(id)) {
        throw new IllegalArgumentException(partial + ": line " + (i + 1) + " names no row of the input or a row twice;"
            + " delete the file to start over");
      }
      done.put(id, new String[] {prompt, n.has("error") ? n.get("error").asText() : null});
    }
    return done;
  }

  /** Bytes of the identity line and the first {@code rows} row lines (0 for a new file). */
  private static long keptBytes(Path partial, String identity, int rows) throws IOException {
    if (!Files.exists(partial)) {
      return 0;
    }
    byte[] all = Files.readAllBytes(partial);
    int lines = 0;
    for (int i = 0; i < all.length; i++) {
      if (all[i] == '\n' && ++lines == rows + 1) {
        return i + 1;
      }
    }
    return 0; // not even the identity line is whole: start the file again
  }

  private static List<String> wholeLines(Path file) throws IOException {
    String s = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    int end = s.lastIndexOf('\n');
    return end < 0 ? List.of() : List.of(s.substring(0, end).split("\n", -1));
  }
}
