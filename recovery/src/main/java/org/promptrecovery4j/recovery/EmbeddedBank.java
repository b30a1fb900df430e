package org.promptrecovery4j.recovery;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.promptrecovery4j.core.AtomicFiles;
import org.promptrecovery4j.core.Cache;
import org.promptrecovery4j.core.Npy;
import org.promptrecovery4j.core.NpyReader;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;

/**
 * Prompts with their embeddings under one sentence encoder, row i the embedding of prompt i. Made by embedding a
 * {@link PromptBank} ({@link #embed}, cached on disk), or read from a precomputed file:
 *
 * <ul>
 *   <li>{@code .json}: {@code [{"prompt": "...", "embedding": [768 floats]}, ...]} (the format of
 *       {@code st5_prompt_embeddings.json}), {@link #load(Path)} / {@link #writeJson};
 *   <li>{@code .npy} (float32 [N, D]) beside a prompt list ({@code .txt} one per line, or a {@code .json} array of
 *       strings), row i ↔ prompt i, {@link #load(Path, Path)} / {@link #writeNpy}.
 * </ul>
 *
 * <p>Prompts are kept exactly as given (a precomputed file is not de-duplicated or stripped, so rows stay aligned).
 * Every embedding must be finite, non-zero and of the same width; errors name the file and the entry.
 */
public final class EmbeddedBank {

  /** The cache's sub-folder for bank embeddings. */
  public static final String CACHE_FOLDER = "bank-embeddings";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final String source;
  private final List<String> prompts;
  private final float[][] embeddings;

  private EmbeddedBank(String source, List<String> prompts, float[][] embeddings) {
    this.source = source;
    this.prompts = prompts;
    this.embeddings = embeddings;
  }

  /** A bank of {@code prompts} with {@code embeddings} (one row each; copied). */
  public static EmbeddedBank of(String source, List<String> prompts, float[][] embeddings) {
    if (prompts.isEmpty()) {
      throw new IllegalArgumentException(source + ": the bank has no prompts");
    }
    if (prompts.size() != embeddings.length) {
      throw new IllegalArgumentException(source + ": " + prompts.size() + " prompts but " + embeddings.length
          + " embeddings");
    }
    float[][] copy = new float[embeddings.length][];
    for (int i = 0; i < embeddings.length; i++) {
      copy[i] = embeddings[i].clone();
      check(source, i, prompts.get(i), copy[i], copy[0].length);
    }
    return new EmbeddedBank(source, List.copyOf(prompts), copy);
  }

  private static void check(String source, int i, String prompt, float[] e, int width) {
    if (prompt == null) {
      throw new IllegalArgumentException(source + ": entry " + i + " has no prompt");
    }
    if (e.length != width || width == 0) {
      throw new IllegalArgumentException(source + ": entry " + i + " has " + e.length + " values, entry 0 has " + width);
    }
    double norm = 0;
    for (int k = 0; k < e.length; k++) {
      if (!Float.isFinite(e[k])) {
        throw new IllegalArgumentException(source + ": entry " + i + " (\"" + shorten(prompt) + "\"): value " + k
            + " is " + e[k]);
      }
      norm += (double) e[k] * e[k];
    }
    if (norm == 0) {
      throw new IllegalArgumentException(source + ": entry " + i + " (\"" + shorten(prompt) + "\"): the embedding is"
          + " all zeros");
    }
  }

  static String shorten(String s) {
    return s.length() <= 60 ? s : s.substring(0, 57) + "...";
  }

  public String source() {
    return source;
  }

  public List<String> prompts() {
    return prompts;
  }

  public String prompt(int i) {
    return prompts.get(i);
  }

  /** Embedding row {@code i} (the array itself: do not change it). */
  public float[] embedding(int i) {
    return embeddings[i];
  }

  /** All rows (the arrays themselves: do not change them). */
  public float[][] embeddings() {
    return embeddings;
  }

  public int size() {
    return prompts.size();
  }

  public int dimension() {
    return embeddings[0].length;
  }

  /** The first row whose prompt equals {@code prompt} (after stripping both), or -1. */
  public int indexOf(String prompt) {
    String p = prompt.strip();
    for (int i = 0; i < prompts.size(); i++) {
      if (prompts.get(i).strip().equals(p)) {
        return i;
      }
    }
    return -1;
  }

  // ---------------------------------------------------------------- files

  /**
   * A precomputed bank: {@code .json} ({@code [{"prompt", "embedding"}]}), or a {@code .npy} with its prompt list
   * beside it (the same name with {@code .txt} or {@code .json}: {@code bank.npy} + {@code bank.txt}).
   */
  public static EmbeddedBank load(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new FileNotFoundException(file + ": no such embedded prompt bank");
    }
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".npy")) {
      String stem = file.getFileName().toString().substring(0, name.length() - 4);
      for (String ext : List.of(".txt", ".json")) {
        Path list = file.resolveSibling(stem + ext);
        if (Files.isRegularFile(list)) {
          return load(file, list);
        }
      }
      throw new FileNotFoundException(file + ": no prompt list beside it (" + stem + ".txt or " + stem + ".json)");
    }
    if (!name.endsWith(".json")) {
      throw new IllegalArgumentException(file + ": an embedded bank is a .json of {prompt, embedding} objects or a"
          + " .npy with its prompt list");
    }
    return readJson(file);
  }

  /** A {@code .npy} float32 [N, D] with its prompt list ({@code .txt}: one per line; {@code .json}: an array). */
  public static EmbeddedBank load(Path npy, Path promptList) throws IOException {
    float[][] e = NpyReader.readFloat32(npy);
    List<String> prompts = readPromptList(promptList);
    if (prompts.size() != e.length) {
      throw new IllegalArgumentException(npy + " has " + e.length + " rows but " + promptList + " has " + prompts.size()
          + " prompts");
    }
    return of(npy.toString(), prompts, e);
  }

  /** The prompts of a list file, exactly as written (a .txt's last empty line, if any, is not a prompt). */
  static List<String> readPromptList(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new FileNotFoundException(file + ": no such prompt list");
    }
    if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json")) {
      JsonNode root = JSON.readTree(file.toFile());
      if (root == null || !root.isArray()) {
        throw new IllegalArgumentException(file + ": expected a JSON array of prompt strings");
      }
      List<String> out = new ArrayList<>();
      for (int i = 0; i < root.size(); i++) {
        JsonNode n = root.get(i);
        JsonNode p = n.isObject() ? n.get("prompt") : n;
        if (p == null || !p.isTextual()) {
          throw new IllegalArgumentException(file + ": entry " + i + " is not a prompt string");
        }
        out.add(p.asText());
      }
      return out;
    }
    return Files.readAllLines(file, StandardCharsets.UTF_8);
  }

  private static EmbeddedBank readJson(Path file) throws IOException {
    List<String> prompts = new ArrayList<>();
    List<float[]> rows = new ArrayList<>();
    try (JsonParser p = new JsonFactory().createParser(file.toFile())) {
      if (p.nextToken() != JsonToken.START_ARRAY) {
        throw new IllegalArgumentException(file + ": expected a JSON array of {\"prompt\", \"embedding\"} objects");
      }
      int width = -1;
      for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
        int i = prompts.size();
        if (t != JsonToken.START_OBJECT) {
          throw new IllegalArgumentException(file + ": entry " + i + " is not an object {\"prompt\", \"embedding\"}");
        }
        String prompt = null;
        float[] e = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String field = p.currentName();
          JsonToken v = p.nextToken();
          if (field.equals("prompt")) {
            if (v != JsonToken.VALUE_STRING) {
              throw new IllegalArgumentException(file + ": entry " + i + ": \"prompt\" is not a string");
            }
            prompt = p.getText();
          } else if (field.equals("embedding")) {
            e = readFloats(p, file, i, width);
            width = e.length;
          } else {
            p.skipChildren();
          }
        }
        if (prompt == null || e == null) {
          throw new IllegalArgumentException(file + ": entry " + i + " lacks " + (prompt == null ? "\"prompt\"" : "\"embedding\""));
        }
        prompts.add(prompt);
        rows.add(e);
      }
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(file + ": not valid JSON (" + e.getOriginalMessage() + ", line "
          + e.getLocation().getLineNr() + ")", e);
    }
    return of(file.toString(), prompts, rows.toArray(new float[0][]));
  }

  private static float[] readFloats(JsonParser p, Path file, int entry, int width) throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw new IllegalArgumentException(file + ": entry " + entry + ": \"embedding\" is not an array of numbers");
    }
    float[] buf = new float[width > 0 ? width : 1024];
    int n = 0;
    for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
      if (t != JsonToken.VALUE_NUMBER_FLOAT && t != JsonToken.VALUE_NUMBER_INT) {
        throw new IllegalArgumentException(file + ": entry " + entry + ": embedding value " + n + " is not a number");
      }
      if (n == buf.length) {
        buf = java.util.Arrays.copyOf(buf, 2 * n);
      }
      buf[n++] = p.getFloatValue();
    }
    return n == buf.length ? buf : java.util.Arrays.copyOf(buf, n);
  }

  /** Writes {@code [{"prompt", "embedding"}]}, atomically (the format {@link #load(Path)} reads). */
  public void writeJson(Path file) throws IOException {
    AtomicFiles.write(file, out -> {
      try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
        g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
        g.writeStartArray();
        for (int i = 0; i < size(); i++) {
          g.writeStartObject();
          g.writeStringField("prompt", prompts.get(i));
          g.writeFieldName("embedding");
          g.writeStartArray();
          for (float v : embeddings[i]) {
            g.writeNumber(v);
          }
          g.writeEndArray();
          g.writeEndObject();
        }
        g.writeEndArray();
      }
    });
  }

  /** Writes the embeddings as {@code .npy} and the prompts as a JSON array of strings, each atomically. */
  public void writeNpy(Path npy, Path promptsJson) throws IOException {
    AtomicFiles.write(promptsJson, out -> out.write(JSON.writeValueAsBytes(prompts)));
    Npy.writeFloat32(npy, embeddings);
  }

  // ---------------------------------------------------------------- embedding, cached

  /**
   * The bank's prompts embedded with {@code encoder} (loaded from {@code encoderDir}), read from the cache when a
   * previous run embedded the same prompts with the same encoder folder ({@link Cache}, sub-folder
   * {@value #CACHE_FOLDER}; the key is the SHA-256 of the prompts and the {@link FolderFingerprint} of the folder).
   */
  public static EmbeddedBank embed(PromptBank bank, Path encoderDir, SentenceEmbedder encoder) throws IOException {
    return embed(bank, encoderDir, encoder, null);
  }

  /**
   * As {@link #embed(PromptBank, Path, SentenceEmbedder)} with the cache in {@code cacheDir} (the files are
   * {@code cacheDir/KEY.npy} and {@code KEY.json}); {@code null}: the project's cache ({@link Cache#roots()}, the
   * first that can be written).
   */
  public static EmbeddedBank embed(PromptBank bank, Path encoderDir, SentenceEmbedder encoder, Path cacheDir)
      throws IOException {
    String key = cacheKey(bank.prompts(), encoderDir);
    List<Path> dirs = cacheDir != null ? List.of(cacheDir) : Cache.roots().stream().map(r -> r.resolve(CACHE_FOLDER)).toList();
    for (Path dir : dirs) {
      Path npy = dir.resolve(key + ".npy");
      if (Files.isRegularFile(npy)) {
        float[][] e = NpyReader.readFloat32(npy);
        if (e.length == bank.size()) {
          return of(bank.source() + " (cached " + npy + ")", bank.prompts(), e);
        }
        System.err.println("note: " + npy + " has " + e.length + " rows for " + bank.size() + " prompts; embedding again");
      }
    }
    System.err.println("embedding " + bank.size() + " prompts of " + bank.source() + " with " + encoderDir
        + " (cached for later runs)");
    float[][] e = encoder.embed(bank.prompts());
    EmbeddedBank out = of(bank.source(), bank.prompts(), e);
    for (Path dir : dirs) {
      try {
        Files.createDirectories(dir);
        Npy.writeFloat32(dir.resolve(key + ".npy"), e);
        ObjectNode meta = JSON.createObjectNode();
        meta.put("bank", bank.source());
        meta.put("prompts", bank.size());
        meta.put("encoder", encoderDir.toAbsolutePath().toString());
        meta.put("dimension", out.dimension());
        meta.put("key", key);
        AtomicFiles.write(dir.resolve(key + ".json"), o -> o.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(meta)));
        break;
      } catch (IOException ex) {
        System.err.println("note: cannot cache the bank embeddings in " + dir + " (" + ex.getMessage() + ")");
      }
    }
    return out;
  }

  /**
   * The cache key of (prompts, encoder folder): the first 16 hex digits of SHA-256(prompts) and of the folder's
   * fingerprint, {@code BANK-ENCODER}.
   */
  public static String cacheKey(List<String> prompts, Path encoderDir) throws IOException {
    java.security.MessageDigest d = FolderFingerprint.sha256();
    for (String p : prompts) {
      byte[] b = p.getBytes(StandardCharsets.UTF_8);
      d.update(java.nio.ByteBuffer.allocate(4).putInt(b.length).array());
      d.update(b);
    }
    String bankHash = java.util.HexFormat.of().formatHex(d.digest()).substring(0, 16);
    return bankHash + "-" + FolderFingerprint.of(encoderDir).substring(0, 16);
  }

  @Override
  public String toString() {
    return source + " (" + size() + " prompts, " + dimension() + " dims)";
  }
}
