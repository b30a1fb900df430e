package org.promptrecovery4j.training.features;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.promptrecovery4j.core.JobState;
import org.promptrecovery4j.models.nn.LinearPrecision;

/**
 * What a features run was started with ({@code OUTPUT.partial.json}): the input file's size and SHA-256, a
 * fingerprint of the model folder, and the settings, kept through {@link JobState}. A run that finds one resumes
 * only if everything matches; otherwise it stops with an error naming the first difference.
 */
final class ResumeState {

  private static final JobState STATE = new JobState("pr4j-features-1", "features", Map.of(
      "input_bytes", "the input file (its size)",
      "input_sha256", "the input file (its content)",
      "model", "the model folder (its files)",
      "original_column", "--original-column",
      "rewritten_column", "--rewritten-column",
      "max_length", "--max-length",
      "batch_size", "--batch-size",
      "compute", "--compute",
      "rows", "the number of rows",
      "width", "the feature width"));

  private ResumeState() {}

  /** The state of a run: every value a resume must find unchanged. */
  static Map<String, Object> of(Path input, Path modelDir, String originalColumn, String rewrittenColumn,
      int maxLength, int batchSize, LinearPrecision compute, int rows, int width) throws IOException {
    Map<String, Object> s = STATE.start();
    s.put("input_bytes", Files.size(input));
    s.put("input_sha256", JobState.sha256(input));
    s.put("model", JobState.modelFingerprint(modelDir));
    s.put("original_column", originalColumn);
    s.put("rewritten_column", rewrittenColumn);
    s.put("max_length", maxLength);
    s.put("batch_size", batchSize);
    s.put("compute", compute.option());
    s.put("rows", rows);
    s.put("width", width);
    return s;
  }

  static void write(Path file, Map<String, Object> state) throws IOException {
    STATE.write(file, state);
  }

  static Map<String, Object> read(Path file) throws IOException {
    return STATE.read(file);
  }

  /** Refuses to resume when {@code saved} differs from {@code now}, naming the first difference. */
  static void requireSame(Path file, Map<String, Object> saved, Map<String, Object> now) {
    STATE.requireSame(file, saved, now);
  }

  /**
   * A fresh run writes its state; a resumed one must find the same state. A state without {@code compute} is that of
   * a run from before {@code --compute}, which computed in float32.
   */
  static void startOrCheck(Path output, Map<String, Object> state) throws IOException {
    Path file = JobState.stateFile(output);
    if (Files.exists(file)) {
      Map<String, Object> saved = STATE.read(file);
      saved.putIfAbsent("compute", LinearPrecision.FLOAT32.option());
      STATE.requireSame(file, saved, state);
      return;
    }
    STATE.startOrCheck(output, state);
  }
}
