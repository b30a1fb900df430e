package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.core.AtomicFiles;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.training.features.FeatureJob;

/**
 * {@code features} through the command line: HF's features on the tiny fixture, one-line errors, and a run killed
 * with SIGKILL in a child JVM (mid-run, then mid-write of the .npy) that reruns finish with the same result as an
 * uninterrupted run.
 */
class FeaturesCommandTest {

  static final Path MODEL = CliRunner.FIXTURES.resolve("deberta-v3-tiny-features").toAbsolutePath();
  static final Path DATA = MODEL.resolve("data.csv");

  @Test
  void featuresOfTheFixtureAreHfs(@TempDir Path dir) throws IOException {
    Path out = dir.resolve("feats.npy");
    CliRunner r = CliRunner.run("features", "--model", MODEL.toString(), "--input", DATA.toString(), "--output",
        out.toString(), "--max-length", "16", "--batch-size", "4");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.err()).contains("wrote features [6, 128] to " + out);
    float[] got = WriterKillTest.npy(out);
    float[] want = WriterKillTest.npy(MODEL.resolve("expected-max16.npy"));
    assertThat(got).hasSameSizeAs(want);
    for (int i = 0; i < got.length; i++) {
      assertThat(Math.abs(got[i] - want[i])).as("value %d", i).isLessThan(1e-4f);
    }
    assertThat(FeatureJob.partialFile(out)).doesNotExist();
    assertThat(FeatureJob.stateFile(out)).doesNotExist();
  }

  /**
   * {@code --compute bf16}: the features are bf16's (within bf16 rounding of HF's float32 ones, not equal to them; the
   * bounds against PyTorch's bf16 references are DebertaFeaturesTest's), and the default is float32.
   */
  @Test
  void computeBf16GivesFeaturesWithinBf16Rounding(@TempDir Path dir) throws IOException {
    Path out = dir.resolve("feats.npy");
    CliRunner r = CliRunner.run("features", "--model", MODEL.toString(), "--input", DATA.toString(), "--output",
        out.toString(), "--compute", "bf16");
    assertThat(r.exitCode()).as(r.err()).isZero();
    float[] got = WriterKillTest.npy(out);
    float[] want = WriterKillTest.npy(MODEL.resolve("expected-max384.npy"));
    assertThat(got).hasSameSizeAs(want);
    double max = 0;
    for (int i = 0; i < got.length; i++) {
      max = Math.max(max, Math.abs(got[i] - want[i]));
    }
    assertThat(max).as("max |bf16 - float32|").isGreaterThan(1e-3).isLessThan(0.2);
    r = CliRunner.run("features", "--model", MODEL.toString(), "--input", DATA.toString(), "--output",
        dir.resolve("g.npy").toString(), "--compute", "fp8");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err().strip()).isEqualTo("error: unknown compute precision 'fp8' (float32, bf16)");
    assertThat(dir.resolve("g.npy")).doesNotExist();
  }

  @Test
  void errorsAreOneLine(@TempDir Path dir) {
    String out = dir.resolve("f.npy").toString();
    CliRunner r = CliRunner.run("features", "--model", MODEL.toString(), "--input", DATA.toString(), "--output", out,
        "--original-column", "source");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err().strip()).startsWith("error: " + DATA).contains("no column 'source'").doesNotContain("\n");
    r = CliRunner.run("features", "--model", CliRunner.FIXTURES.resolve("bert-tiny-mean").toString(), "--input",
        DATA.toString(), "--output", out);
    assertThat(r.err().strip()).startsWith("error: ").contains("not a DeBERTa-v2/v3 model (model_type bert)");
    r = CliRunner.run("features", "--model", CliRunner.FIXTURES.resolve("deberta-v3-tiny-bf16").toString(), "--input",
        DATA.toString(), "--output", out);
    assertThat(r.err().strip()).startsWith("error: ").contains("no usable tokenizer in the model folder");
    r = CliRunner.run("features", "--model", MODEL.toString(), "--input", DATA.toString(), "--output",
        dir.resolve("f.csv").toString());
    assertThat(r.err().strip()).isEqualTo("error: " + dir.resolve("f.csv") + ": the output must be .npy");
    assertThat(dir.resolve("f.npy")).doesNotExist();
  }

  /** 24 rows of the fixture's texts, varied, so that batches of 2 make 12 steps. */
  static Path bigger(Path dir) throws IOException {
    Csv.Table t = Csv.read(DATA);
    List<List<String>> rows = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      List<String> row = t.rows().get(i % t.rows().size());
      rows.add(List.of("id" + i, row.get(1) + " " + "more ".repeat(i % 5), "x".repeat(i % 3) + row.get(2)));
    }
    Path csv = dir.resolve("rows.csv");
    Csv.write(csv, List.of("id", "original_text", "rewritten_text"), rows);
    return csv;
  }

  @Test
  @EnabledOnOs(OS.LINUX) // Process.destroyForcibly() is SIGKILL there (exit status 128 + 9)
  void aKilledRunResumesToTheResultOfAnUninterruptedOne(@TempDir Path dir) throws Exception {
    Path csv = bigger(dir);
    Path ref = dir.resolve("ref.npy");
    Path out = dir.resolve("feats.npy");
    List<String> args = List.of("features", "--model", MODEL.toString(), "--input", csv.toString(), "--max-length",
        "16", "--batch-size", "2", "--output");
    CliRunner r = CliRunner.run(with(args, ref.toString()));
    assertThat(r.exitCode()).as(r.err()).isZero();

    // a child stops after 5 batches (10 rows) are on disk and is killed there
    Path marker = dir.resolve("paused");
    Process p = WriterKillTest.start(Main.class.getName(), List.of(with(args, out.toString())), dir.resolve("killed.log"),
        List.of("-D" + FeatureJob.PAUSE_AFTER_BATCHES_PROPERTY + "=5", "-D" + FeatureJob.PAUSE_MARKER_PROPERTY + "=" + marker));
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (!Files.exists(marker) && p.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(marker).as(Files.readString(dir.resolve("killed.log"))).exists();
      p.destroyForcibly();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as("died of SIGKILL").isEqualTo(128 + 9);
    } finally {
      p.destroyForcibly();
    }
    Path partial = FeatureJob.partialFile(out);
    long record = 4 + 4 * 128;
    assertThat(out).doesNotExist();
    assertThat(FeatureJob.stateFile(out)).exists();
    assertThat(Files.size(partial)).isEqualTo(10 * record);
    // as if the kill had come in the middle of the sixth batch: one whole record and part of the next
    try (var ch = java.nio.channels.FileChannel.open(partial, StandardOpenOption.APPEND)) {
      ch.write(ByteBuffer.allocate((int) record + 100).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 7));
    }

    // other settings are refused and leave the partial results alone
    r = CliRunner.run(with(List.of("features", "--model", MODEL.toString(), "--input", csv.toString(), "--max-length",
        "16", "--batch-size", "3", "--output"), out.toString()));
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("error: ").contains("different --batch-size").contains("(was 2, now 3)");
    assertThat(Files.size(partial)).isEqualTo(11 * record + 100);

    // the same command in a fresh JVM goes on from the 10 rows, and is killed in the middle of writing the .npy
    Path marker2 = dir.resolve("paused2");
    Process writing = WriterKillTest.start(Main.class.getName(), List.of(with(args, out.toString())),
        dir.resolve("resumed.log"), List.of("-D" + AtomicFiles.PAUSE_AFTER_BYTES_PROPERTY + "=" + Files.size(ref) / 2,
            "-D" + AtomicFiles.PAUSE_MARKER_PROPERTY + "=" + marker2));
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (!Files.exists(marker2) && writing.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(marker2).as(Files.readString(dir.resolve("resumed.log"))).exists();
      assertThat(WriterKillTest.temporaryFiles(dir, "feats.npy")).hasSize(1);
      writing.destroyForcibly();
      assertThat(writing.waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      writing.destroyForcibly();
    }
    assertThat(Files.readString(dir.resolve("resumed.log"))).contains("resuming: 10 of 24 rows already in");
    assertThat(out).doesNotExist();
    assertThat(Files.size(partial)).as("every row is in the side file").isEqualTo(24 * record);

    // and once more: nothing left to compute, the .npy is written from the side file
    Process again = WriterKillTest.start(Main.class.getName(), List.of(with(args, out.toString())),
        dir.resolve("finished.log"), List.of());
    try {
      assertThat(again.waitFor(120, TimeUnit.SECONDS)).isTrue();
    } finally {
      again.destroyForcibly();
    }
    String log = Files.readString(dir.resolve("finished.log"));
    assertThat(again.exitValue()).as(log).isZero();
    assertThat(log).contains("resuming: 24 of 24 rows already in").contains("(24 rows from the interrupted run)");
    float[] got = WriterKillTest.npy(out);
    float[] want = WriterKillTest.npy(ref);
    assertThat(got).hasSize(24 * 128).hasSameSizeAs(want);
    for (int i = 0; i < got.length; i++) {
      assertThat(Math.abs(got[i] - want[i])).as("value %d", i).isLessThan(1e-6f);
    }
    assertThat(partial).doesNotExist();
    assertThat(FeatureJob.stateFile(out)).doesNotExist();
  }

  static String[] with(List<String> args, String last) {
    List<String> a = new ArrayList<>(args);
    a.add(last);
    return a.toArray(String[]::new);
  }
}
