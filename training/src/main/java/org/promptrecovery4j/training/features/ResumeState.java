package org.promptrecovery4j.training.features;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.promptrecovery4j.core.AtomicFiles;

/**
 * What a features run was started with ({@code OUTPUT.partial.json}): the input file's size and SHA-256, a
 * fingerprint of the model folder, and the settings. A run that finds one resumes only if everything matches;
 * otherwise it stops with an error naming the first difference.
 */
final class ResumeState {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String FORMAT = "pr4j-features-1";
  /** Model files up to this size are hashed (config, tokenizer); larger ones (weights) count by name and size. */
  private static final long HASHED_BYTES = 16L << 20;

  /** How each key is named in the error. */
  private static final Map<String, String> NAMES = Map.of(
      "input_bytes", "the input file (its size)",
      "input_sha256", "the input file (its content)",
      "model", "the model folder (its files)",
      "original_column", "--original-column",
      "rewritten_column", "--rewritten-column",
      "max_length", "--max-length",
      "batch_size", "--batch-size",
      "rows", "the number of rows",
      "width", "the feature width");

  private ResumeState() {}

  /** The state of a run: every value a resume must find unchanged. */
  static Map<String, Object> of(Path input, Path modelDir, String originalColumn, String rewrittenColumn,
      int maxLength, int batchSize, int rows, int width) throws IOException {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("format", FORMAT);
    s.put("input_bytes", Files.size(input));
    s.put("input_sha256", sha256(input));
    s.put("model", modelFingerprint(modelDir));
    s.put("original_column", originalColumn);
    s.put("rewritten_column", rewrittenColumn);
    s.put("max_length", maxLength);
    s.put("batch_size", batchSize);
    s.put("rows", rows);
    s.put("width", width);
    return s;
  }

  static void write(Path file, Map<String, Object> state) throws IOException {
    byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state);
    AtomicFiles.write(file, out -> out.write(bytes));
  }

  static Map<String, Object> read(Path file) throws IOException {
    try {
      return JSON.readValue(file.toFile(), new TypeReference<LinkedHashMap<String, Object>>() {});
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new IllegalArgumentException(file + ": not a features state file (" + e.getOriginalMessage()
          + "); delete it and the .partial file beside it to start over", e);
    }
  }

  /** Refuses to resume when {@code saved} differs from {@code now}, naming the first difference. */
  static void requireSame(Path file, Map<String, Object> saved, Map<String, Object> now) {
    if (!FORMAT.equals(saved.get("format"))) {
      throw new IllegalArgumentException(file + ": not the state of a features run of this version (format "
          + saved.get("format") + ", expected " + FORMAT + "); delete " + file.getFileName() + " and "
          + FeatureJob.stripJson(file).getFileName() + " to start over");
    }
    for (Map.Entry<String, Object> e : now.entrySet()) {
      Object was = saved.get(e.getKey());
      if (was == null || !String.valueOf(was).equals(String.valueOf(e.getValue()))) {
        throw new IllegalArgumentException(file + ": an interrupted run with different " + NAMES.get(e.getKey())
            + " left its partial results here (was " + shown(was) + ", now " + shown(e.getValue()) + "); rerun with"
            + " the same input and settings to resume it, or delete " + file.getFileName() + " and "
            + FeatureJob.stripJson(file).getFileName() + " to start over");
      }
    }
  }

  private static String shown(Object v) {
    String s = String.valueOf(v);
    return s.length() > 20 ? s.substring(0, 16) + "…" : s;
  }

  static String sha256(Path file) throws IOException {
    MessageDigest d = digest();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        d.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(d.digest());
  }

  /** SHA-256 over the folder's files: names and sizes, and the content of the small ones. */
  static String modelFingerprint(Path dir) throws IOException {
    MessageDigest d = digest();
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(Files::isRegularFile).filter(ResumeState::isModelFile).sorted().toList();
    }
    for (Path f : files) {
      long size = Files.size(f);
      d.update((f.getFileName() + "\u0000" + size + "\u0000").getBytes(java.nio.charset.StandardCharsets.UTF_8));
      if (size <= HASHED_BYTES) {
        d.update(HexFormat.of().parseHex(sha256(f)));
      }
    }
    return HexFormat.of().formatHex(d.digest());
  }

  /** Config, weights and tokenizer files; not hidden files, nor outputs someone wrote into the folder. */
  private static boolean isModelFile(Path f) {
    String n = f.getFileName().toString();
    return !n.startsWith(".") && !n.endsWith(".partial.json")
        && (n.endsWith(".json") || n.endsWith(".safetensors") || n.endsWith(".bin") || n.endsWith(".model")
            || n.endsWith(".txt") || n.endsWith(".onnx"));
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
