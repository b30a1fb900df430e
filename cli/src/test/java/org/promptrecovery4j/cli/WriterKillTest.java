package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.AtomicFiles;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.core.TensorJson;

/**
 * Nothing lost on a kill: every writer of the command line, run in a child JVM, is killed with SIGKILL in the
 * middle of its write (the {@link AtomicFiles} test hook stops it after half of the output's bytes), and the
 * destination must still hold the old complete file byte for byte; then a child runs every writer to completion
 * over the same destinations (with the killed runs' temporary files still there) and each must hold the complete
 * new output.
 */
@EnabledOnOs(OS.LINUX) // Process.destroyForcibly() is SIGKILL there (exit status 128 + 9)
class WriterKillTest {

  private static final Path FIXTURES = Path.of(System.getProperty("pr4j.fixtures", "../fixtures")).toAbsolutePath();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MAIN = Main.class.getName();
  private static final String CHILD = WriterKillChild.class.getName();

  /** Compares a written file with the reference output of the same command (both complete). */
  interface Check {
    void same(Path got, Path reference) throws Exception;
  }

  /** The check of the writers whose output is the same bytes in every run. */
  static final Check BYTES = (got, want) -> assertThat(Files.readAllBytes(got)).isEqualTo(Files.readAllBytes(want));

  /** One writer: its output file name, the child's main class and arguments (writing {@code out}), the check. */
  record Case(String name, String file, String mainClass, List<String> args, Check check) {
    List<String> argsFor(Path out) {
      return args.stream().map(a -> a.equals("OUT") ? out.toString() : a).collect(Collectors.toList());
    }
  }

  @Test
  void aKilledWriteLeavesTheOldFileAndAFinishedOneTheNewFile(@TempDir Path dir) throws Exception {
    long t0 = System.nanoTime();
    Path ref = Files.createDirectories(dir.resolve("ref"));
    Path dest = Files.createDirectories(dir.resolve("dest"));
    Path logs = Files.createDirectories(dir.resolve("logs"));
    List<Case> cases = cases(dir, ref);

    // A: each writer in this JVM, to learn its complete output and its size
    Map<String, Long> sizes = new LinkedHashMap<>();
    for (Case c : cases) {
      Path out = ref.resolve(c.file());
      if (c.mainClass().equals(MAIN)) {
        assertThat(Main.run(c.argsFor(out).toArray(String[]::new))).as(c.name()).isZero();
      } else {
        Csv.write(out, List.of("id", "text", "score"), WriterKillChild.csvRows(Integer.parseInt(c.args().get(2))));
      }
      c.check().same(out, out); // parses as a complete output
      sizes.put(c.name(), Files.size(out));
      assertThat(Files.size(out)).as(c.name()).isGreaterThan(16);
    }

    // B: an old complete file at each destination, a child killed half-way through writing the new one
    Map<String, Process> children = new LinkedHashMap<>();
    Map<String, byte[]> old = new LinkedHashMap<>();
    try {
      for (Case c : cases) {
        byte[] o = ("old complete " + c.file() + "\n").repeat(40).getBytes(StandardCharsets.UTF_8);
        Files.write(dest.resolve(c.file()), o);
        old.put(c.name(), o);
        long half = sizes.get(c.name()) / 2;
        children.put(c.name(), start(c.mainClass(), c.argsFor(dest.resolve(c.file())), logs.resolve(c.name() + ".log"),
            List.of("-D" + AtomicFiles.PAUSE_AFTER_BYTES_PROPERTY + "=" + half,
                "-D" + AtomicFiles.PAUSE_MARKER_PROPERTY + "=" + logs.resolve(c.name() + ".paused"))));
      }
      for (Case c : cases) {
        Process p = children.get(c.name());
        Path marker = logs.resolve(c.name() + ".paused");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(marker) && p.isAlive() && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertThat(marker).as("%s paused mid-write; log:%n%s", c.name(), log(logs, c)).exists();
        // the write is in progress: the temporary file holds exactly the first half of the new content
        List<Path> tmps = temporaryFiles(dest, c.file());
        assertThat(tmps).as(c.name()).hasSize(1);
        long half = sizes.get(c.name()) / 2;
        assertThat(Files.size(tmps.get(0))).as(c.name()).isEqualTo(half);
        if (c.check() == BYTES) { // float outputs need not match bit for bit across JVMs
          assertThat(Files.readAllBytes(tmps.get(0))).as("%s: the first half of what a complete run writes", c.name())
              .isEqualTo(java.util.Arrays.copyOf(Files.readAllBytes(ref.resolve(c.file())), (int) half));
        }

        p.destroyForcibly();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as(c.name()).isTrue();
        assertThat(p.exitValue()).as("%s died of SIGKILL", c.name()).isEqualTo(128 + 9);

        assertThat(Files.readAllBytes(dest.resolve(c.file()))).as("%s: the old file, untouched", c.name())
            .isEqualTo(old.get(c.name()));
        assertThat(temporaryFiles(dest, c.file())).as("%s: the killed run's temporary file stays", c.name()).isEqualTo(tmps);
      }
    } finally {
      children.values().forEach(Process::destroyForcibly);
    }
    Map<String, List<Path>> stale = new LinkedHashMap<>();
    for (Case c : cases) {
      stale.put(c.name(), temporaryFiles(dest, c.file()));
    }

    // C: one child runs every writer to completion over the same destinations, stale temporary files beside them
    List<String> lines = new ArrayList<>();
    for (Case c : cases) {
      if (c.mainClass().equals(MAIN)) {
        lines.add(String.join("\t", c.argsFor(dest.resolve(c.file()))));
      }
    }
    Path script = dir.resolve("run-all.tsv");
    Files.write(script, lines);
    Process all = start(CHILD, List.of("run-all", script.toString()), logs.resolve("run-all.log"), List.of());
    Case csv = cases.stream().filter(c -> c.mainClass().equals(CHILD)).findFirst().orElseThrow();
    Process csvChild = start(CHILD, csv.argsFor(dest.resolve(csv.file())), logs.resolve(csv.name() + ".log"), List.of());
    try {
      assertThat(all.waitFor(120, TimeUnit.SECONDS)).isTrue();
      assertThat(csvChild.waitFor(60, TimeUnit.SECONDS)).isTrue();
    } finally {
      all.destroyForcibly();
      csvChild.destroyForcibly();
    }
    assertThat(all.exitValue()).as(Files.readString(logs.resolve("run-all.log"))).isZero();
    assertThat(csvChild.exitValue()).as(Files.readString(logs.resolve(csv.name() + ".log"))).isZero();
    for (Case c : cases) {
      Path out = dest.resolve(c.file());
      assertThat(Files.readAllBytes(out)).as(c.name()).isNotEqualTo(old.get(c.name()));
      c.check().same(out, ref.resolve(c.file()));
      assertThat(temporaryFiles(dest, c.file())).as("%s: no new temporary file left, the stale one kept", c.name())
          .isEqualTo(stale.get(c.name()));
    }
    System.err.printf("WriterKillTest: %d writers in %.1f s%n", cases.size(), (System.nanoTime() - t0) / 1e9);
  }

  /** The raw ways to write a file; in main code only {@link AtomicFiles} may use them. */
  static final List<String> RAW_WRITES = List.of("Files.write", "Files.newOutputStream", "Files.newBufferedWriter",
      "Files.copy", "Files.move", "Files.createTempFile", "FileOutputStream", "FileWriter",
      "PrintWriter", "RandomAccessFile", "StandardOpenOption.WRITE", "StandardOpenOption.APPEND", ".writeValue(");

  @Test
  void everyWriterOfMainCodeGoesThroughAtomicFiles() throws IOException {
    Path root = Path.of(System.getProperty("pr4j.root", "..")).toAbsolutePath();
    List<String> found = new ArrayList<>();
    List<Path> sources = new ArrayList<>();
    try (Stream<Path> modules = Files.list(root)) {
      // test-support is test infrastructure (its main code only serves tests: Fuzzing's scratch files)
      for (Path m : modules.filter(m -> !m.getFileName().toString().equals("test-support"))
          .map(m -> m.resolve("src/main/java")).filter(Files::isDirectory).toList()) {
        try (Stream<Path> s = Files.walk(m)) {
          s.filter(p -> p.toString().endsWith(".java") && !p.getFileName().toString().equals("AtomicFiles.java"))
              .forEach(sources::add);
        }
      }
    }
    assertThat(sources).as("main sources under " + root).hasSizeGreaterThan(50);
    {
      for (Path p : sources) {
        List<String> lines = Files.readAllLines(p);
        for (int i = 0; i < lines.size(); i++) {
          for (String raw : RAW_WRITES) {
            // "Files.write" but not "AtomicFiles.write"
            String prefix = Character.isLetter(raw.charAt(0)) ? "(?<!\\w)" : "";
            if (java.util.regex.Pattern.compile(prefix + java.util.regex.Pattern.quote(raw)).matcher(lines.get(i)).find()) {
              found.add(root.relativize(p) + ":" + (i + 1) + ": " + lines.get(i).trim());
            }
          }
        }
      }
    }
    assertThat(found).as("files written around AtomicFiles").isEmpty();
  }

  /** The writers, with their inputs made in {@code dir} (detokenize reads tokenize's reference output). */
  static List<Case> cases(Path dir, Path ref) throws IOException {
    Path texts = dir.resolve("texts.txt");
    List<String> t = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      t.add("Rewrite text number " + i + " as a short poem, please.");
    }
    Files.write(texts, t);
    Path jsonl = dir.resolve("texts.jsonl");
    Files.write(jsonl, t.stream().map(s -> "{\"text\": \"" + s + "\"}").collect(Collectors.toList()));
    Path truth = dir.resolve("truth.csv");
    Path pred = dir.resolve("pred.csv");
    List<List<String>> truthRows = new ArrayList<>();
    List<List<String>> predRows = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      truthRows.add(List.of("id" + i, "original " + i, t.get(i)));
      predRows.add(List.of("id" + i, i % 3 == 0 ? t.get(i) : "Make text " + i + " formal"));
    }
    Csv.write(truth, List.of("id", "original_text", "rewrite_prompt"), truthRows);
    Csv.write(pred, List.of("id", "rewrite_prompt"), predRows);
    String st5 = FIXTURES.resolve("sentence-t5-tiny-text").toString();
    String tokenizer = FIXTURES.resolve("tokenizers/mistral-like.tokenizer.json").toString();
    return List.of(
        new Case("convert", "model.safetensors", MAIN, List.of("convert", "--input",
            FIXTURES.resolve("torch-bin/tiny-deberta/pytorch_model.bin").toString(), "--output", "OUT"), BYTES),
        new Case("embed", "emb.npy", MAIN, List.of("embed", "--model", st5, "--input", texts.toString(),
            "--output", "OUT", "--batch-size", "8"), WriterKillTest::sameNpy),
        new Case("embed-jsonl", "emb.jsonl", MAIN, List.of("embed", "--model", st5, "--input", texts.toString(),
            "--output", "OUT", "--batch-size", "8"), WriterKillTest::sameEmbeddingLines),
        new Case("tokenize", "tok.jsonl", MAIN, List.of("tokenize", "--tokenizer", tokenizer, "--input",
            jsonl.toString(), "--output", "OUT"), BYTES),
        new Case("detokenize", "detok.jsonl", MAIN, List.of("detokenize", "--tokenizer", tokenizer,
            "--skip-special-tokens", "--input", ref.resolve("tok.jsonl").toString(), "--output", "OUT"), BYTES),
        new Case("forward", "forward.json", MAIN, List.of("forward", "--model",
            FIXTURES.resolve("sentence-t5-tiny").toString(), "--input",
            FIXTURES.resolve("sentence-t5-tiny/inputs.json").toString(), "--output", "OUT"), WriterKillTest::sameTensors),
        new Case("score", "per-row.csv", MAIN, List.of("score", "--model", st5, "--truth", truth.toString(),
            "--predictions", pred.toString(), "--per-row", "OUT"), WriterKillTest::sameScores),
        new Case("generate", "gen.json", MAIN, List.of("generate", "--model", FIXTURES.resolve("tiny-phi").toString(),
            "--input-ids", "64,66,11,91,27,68,24", "--max-new-tokens", "8", "--greedy", "--no-eos", "--output", "OUT"),
            WriterKillTest::sameGeneration),
        new Case("csv", "table.csv", CHILD, List.of("csv", "OUT", "3000"), BYTES));
  }

  static void sameNpy(Path got, Path want) throws IOException {
    float[] g = npy(got);
    float[] w = npy(want);
    assertThat(g).hasSameSizeAs(w).hasSize(40 * 24);
    for (int i = 0; i < g.length; i++) {
      assertThat(g[i]).isCloseTo(w[i], within(1e-5f));
    }
  }

  static void sameEmbeddingLines(Path got, Path want) throws IOException {
    List<String> g = Files.readAllLines(got);
    List<String> w = Files.readAllLines(want);
    assertThat(g).hasSize(40).hasSameSizeAs(w);
    for (int r = 0; r < g.size(); r++) {
      JsonNode a = JSON.readTree(g.get(r)).get("embedding");
      JsonNode b = JSON.readTree(w.get(r)).get("embedding");
      assertThat(a).hasSize(24).hasSameSizeAs(b);
      for (int i = 0; i < a.size(); i++) {
        assertThat(a.get(i).floatValue()).isCloseTo(b.get(i).floatValue(), within(1e-5f));
      }
    }
  }

  static float[] npy(Path file) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(b.get(0)).isEqualTo((byte) 0x93);
    int header = b.getShort(8) & 0xffff;
    b.position(10 + header);
    float[] f = new float[b.remaining() / 4];
    b.asFloatBuffer().get(f);
    assertThat(b.remaining() % 4).isZero();
    return f;
  }

  static void sameTensors(Path got, Path want) throws IOException {
    Map<String, Object> g = TensorJson.read(got);
    Map<String, Object> w = TensorJson.read(want);
    assertThat(g.keySet()).containsExactlyElementsOf(w.keySet()).contains("sentence_embedding");
    for (String k : w.keySet()) {
      if (w.get(k) instanceof INDArray a) {
        assertThat(((INDArray) g.get(k)).equalsWithEps(a, 1e-5)).as(k).isTrue();
      }
    }
  }

  static void sameScores(Path got, Path want) throws IOException {
    Csv.Table g = Csv.read(got);
    Csv.Table w = Csv.read(want);
    assertThat(g.header()).containsExactly("id", "score", "predicted", "truth");
    assertThat(g.rows()).hasSize(20).hasSameSizeAs(w.rows());
    for (int r = 0; r < w.rows().size(); r++) {
      assertThat(g.rows().get(r).get(0)).isEqualTo(w.rows().get(r).get(0));
      assertThat(Double.parseDouble(g.rows().get(r).get(1))).isCloseTo(Double.parseDouble(w.rows().get(r).get(1)), within(1e-5));
    }
  }

  static void sameGeneration(Path got, Path want) throws IOException {
    JsonNode g = JSON.readTree(got.toFile());
    JsonNode w = JSON.readTree(want.toFile());
    assertThat(g.get("generated_ids")).hasSize(8).isEqualTo(w.get("generated_ids"));
    assertThat(g.get("finish_reason").asText()).isEqualTo("length");
  }

  /** The temporary files {@link AtomicFiles} makes for {@code name} in {@code dir}, sorted. */
  static List<Path> temporaryFiles(Path dir, String name) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith("." + name + ".")
          && p.getFileName().toString().endsWith(".tmp")).sorted().collect(Collectors.toList());
    }
  }

  /** Starts a child JVM with the test classpath and the JVM options the launcher and surefire use. */
  static Process start(String mainClass, List<String> args, Path log, List<String> extraJvmOptions) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    String root = System.getProperty("pr4j.root");
    Path options = root != null ? Path.of(root, "jvm.options") : FIXTURES.resolveSibling("jvm.options");
    cmd.add("@" + options);
    cmd.add("-Dorg.bytedeco.openblas.load=" + System.getProperty("org.bytedeco.openblas.load", "mkl_rt"));
    cmd.add("-Dpr4j.fixtures=" + FIXTURES);
    cmd.addAll(extraJvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(args);
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  static String log(Path logs, Case c) {
    try {
      return Files.readString(logs.resolve(c.name() + ".log"));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }
}
