package org.promptrecovery4j.core;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What a resumable job was started with ({@code OUTPUT.partial.json} beside its {@code OUTPUT.partial} side file):
 * its inputs' sizes and SHA-256, a fingerprint of the model folder, and its settings, as one flat JSON object. A run
 * that finds one resumes only if everything matches; otherwise it stops with an error naming the first difference
 * and saying how to start over. The {@code features} and {@code rewrite} jobs keep theirs through it.
 */
public final class JobState {

  private static final ObjectMapper JSON = new ObjectMapper();
  /** Model files up to this size are hashed (config, tokenizer); larger ones (weights) count by name and size. */
  private static final long HASHED_BYTES = 16L << 20;

  private final String format;
  private final String job;
  private final Map<String, String> names;

  /**
   * @param format the value of the {@code format} key this version writes (e.g. {@code pr4j-features-1})
   * @param job the job's name in messages ({@code features})
   * @param names how each key is named in the error (its option, e.g. {@code --batch-size}); the key itself if absent
   */
  public JobState(String format, String job, Map<String, String> names) {
    this.format = format;
    this.job = job;
    this.names = Map.copyOf(names);
  }

  /** A new state: the {@code format} key, then the caller's keys in the order put. */
  public Map<String, Object> start() {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("format", format);
    return s;
  }

  /** {@code OUTPUT.partial}: the finished pieces of an unfinished run. */
  public static Path partialFile(Path output) {
    return output.resolveSibling(output.getFileName() + ".partial");
  }

  /** {@code OUTPUT.partial.json}: what the unfinished run was started with. */
  public static Path stateFile(Path output) {
    return output.resolveSibling(output.getFileName() + ".partial.json");
  }

  /** {@code X.partial} for {@code X.partial.json}. */
  public static Path partialOf(Path stateFile) {
    String n = stateFile.getFileName().toString();
    return stateFile.resolveSibling(n.endsWith(".json") ? n.substring(0, n.length() - ".json".length()) : n);
  }

  public void write(Path file, Map<String, Object> state) throws IOException {
    byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state);
    AtomicFiles.write(file, out -> out.write(bytes));
  }

  public Map<String, Object> read(Path file) throws IOException {
    try {
      return JSON.readValue(file.toFile(), new TypeReference<LinkedHashMap<String, Object>>() {});
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new IllegalArgumentException(file + ": not a " + job + " state file (" + e.getOriginalMessage()
          + "); delete it and the .partial file beside it to start over", e);
    }
  }

  /** Refuses to resume when {@code saved} differs from {@code now}, naming the first difference. */
  public void requireSame(Path file, Map<String, Object> saved, Map<String, Object> now) {
    if (saved == null || !format.equals(saved.get("format"))) {
      throw new IllegalArgumentException(file + ": not the state of a " + job + " run of this version (format "
          + (saved == null ? null : saved.get("format")) + ", expected " + format + "); delete " + file.getFileName()
          + " and " + partialOf(file).getFileName() + " to start over");
    }
    for (Map.Entry<String, Object> e : now.entrySet()) {
      Object was = saved.get(e.getKey());
      if (was == null || !String.valueOf(was).equals(String.valueOf(e.getValue()))) {
        throw new IllegalArgumentException(file + ": an interrupted run with different "
            + names.getOrDefault(e.getKey(), e.getKey()) + " left its partial results here (was " + shown(was)
            + ", now " + shown(e.getValue()) + "); rerun with the same input and settings to resume it, or delete "
            + file.getFileName() + " and " + partialOf(file).getFileName() + " to start over");
      }
    }
  }

  /**
   * A fresh run writes {@code state}; a resumed one must find the same. Partial results without a state file are
   * refused (nothing tells which run they belong to).
   */
  public void startOrCheck(Path output, Map<String, Object> state) throws IOException {
    Path stateFile = stateFile(output);
    Path partial = partialFile(output);
    if (Files.exists(stateFile)) {
      requireSame(stateFile, read(stateFile), state);
      return;
    }
    if (Files.exists(partial)) {
      throw new IllegalArgumentException(partial + ": partial results without their " + stateFile.getFileName()
          + ": cannot tell what run they belong to; delete " + partial.getFileName() + " to start over");
    }
    write(stateFile, state);
  }

  private static String shown(Object v) {
    String s = String.valueOf(v);
    return s.length() > 20 ? s.substring(0, 16) + "…" : s;
  }

  /** The SHA-256 of a file's bytes, hex. */
  public static String sha256(Path file) throws IOException {
    MessageDigest d = digest();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        d.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(d.digest());
  }

  /**
   * SHA-256 over a model folder's files (config, weights, tokenizer; not hidden files nor outputs written into it):
   * names and sizes, and the content of the small ones. A model file (a llama2.c checkpoint) counts by name and size.
   */
  public static String modelFingerprint(Path dir) throws IOException {
    MessageDigest d = digest();
    List<Path> files;
    if (Files.isDirectory(dir)) {
      try (Stream<Path> s = Files.list(dir)) {
        files = s.filter(Files::isRegularFile).filter(JobState::isModelFile).sorted().toList();
      }
    } else {
      files = List.of(dir);
    }
    for (Path f : files) {
      long size = Files.size(f);
      d.update((f.getFileName() + "\u0000" + size + "\u0000").getBytes(StandardCharsets.UTF_8));
      if (size <= HASHED_BYTES) {
        d.update(HexFormat.of().parseHex(sha256(f)));
      }
    }
    return HexFormat.of().formatHex(d.digest());
  }

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
