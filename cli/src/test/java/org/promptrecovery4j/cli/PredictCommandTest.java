package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.evaluation.Submission;
import org.promptrecovery4j.recovery.PredictJob;

/** {@code predict} on the sample shipped in the repo: the embedded default, and a SIGKILLed run resumed. */
class PredictCommandTest {

  static final Path SAMPLE = CliRunner.FIXTURES.toAbsolutePath().resolveSibling("examples").resolve("sample.csv");

  @Test
  void theEmbeddedDefaultWritesASubmission(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("submission.csv");
    CliRunner r = CliRunner.run("predict", "--input", SAMPLE.toString(), "--output", out.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.err()).contains("predict: no --config: the embedded default").contains("wrote 8 prompts to");
    List<Submission.Row> rows = Submission.read(out);
    assertThat(rows).extracting(Submission.Row::id).containsExactly("s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08");
    assertThat(rows.get(0).prompt()).containsIgnoringCase("pirate");
    assertThat(rows.get(1).prompt()).containsIgnoringCase("French");
    assertThat(rows.get(2).prompt()).containsIgnoringCase("fairy");
    assertThat(rows).allSatisfy(x -> assertThat(x.prompt()).isNotBlank());
  }

  @Test
  void badConfigsFailBeforeAnyWork(@TempDir Path tmp) throws Exception {
    Path cfg = tmp.resolve("recovery.json");
    Files.writeString(cfg, "{\"recoverers\": [{\"type\": \"nearest-examples\", \"examples\": \"train.csv\"}]}");
    CliRunner r = CliRunner.run("predict", "--input", SAMPLE.toString(), "--output", tmp.resolve("s.csv").toString(),
        "--config", cfg.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err().strip()).isEqualTo("error: " + cfg + ": recoverers[0]: \"examples\": " + tmp.resolve("train.csv")
        + " does not exist");
    assertThat(tmp.resolve("s.csv")).doesNotExist();
  }

  @Test
  @EnabledOnOs(OS.LINUX)
  void aKilledRunResumesWithoutRedoingOrDuplicatingRows(@TempDir Path tmp) throws Exception {
    Path cfg = tmp.resolve("recovery.json");
    Files.writeString(cfg, "{\"recoverers\": [{\"type\": \"zero-shot\"}], \"batch_size\": 1}");
    Path killed = tmp.resolve("killed.csv");
    Path marker = tmp.resolve("paused");
    List<String> args = new ArrayList<>(List.of("predict", "--input", SAMPLE.toString(), "--config", cfg.toString(),
        "--output"));
    Process p = WriterKillTest.start(Main.class.getName(), with(args, killed), tmp.resolve("child.log"), List.of(
        "-D" + PredictJob.PAUSE_AFTER_BATCHES_PROPERTY + "=3", "-D" + PredictJob.PAUSE_MARKER_PROPERTY + "=" + marker,
        "-Dpr4j.cache=" + System.getProperty("pr4j.cache", "target/pr4j-cache")));
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      while (!Files.exists(marker) && p.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(marker).as(Files.readString(tmp.resolve("child.log"))).exists();
      p.destroyForcibly();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      p.destroyForcibly();
    }
    assertThat(killed).doesNotExist();
    Path partial = tmp.resolve("killed.csv.partial");
    assertThat(Files.readAllLines(partial)).hasSize(1 + 3); // the job line and 3 finished rows

    CliRunner resumed = CliRunner.run(with(args, killed).toArray(String[]::new));
    assertThat(resumed.exitCode()).as(resumed.err()).isZero();
    assertThat(resumed.err()).contains("3 of 8 rows already done").contains("(3 from the earlier run)");
    assertThat(partial).doesNotExist();
    Path clean = tmp.resolve("clean.csv");
    CliRunner once = CliRunner.run(with(args, clean).toArray(String[]::new));
    assertThat(once.exitCode()).as(once.err()).isZero();
    assertThat(Files.readAllBytes(killed)).isEqualTo(Files.readAllBytes(clean));
    assertThat(Submission.read(killed)).hasSize(8);
  }

  static List<String> with(List<String> args, Path output) {
    List<String> l = new ArrayList<>(args);
    l.add(output.toString());
    return l;
  }
}
