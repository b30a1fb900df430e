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
import org.promptrecovery4j.training.head.HeadTrainer;
import org.promptrecovery4j.weights.SafetensorsFile;

/**
 * A train-head run killed with SIGKILL after a finished epoch resumes from its last checkpoint when started again,
 * and ends with exactly the checkpoint of a run that was never killed (every random choice is seeded per epoch).
 */
@EnabledOnOs(OS.LINUX)
class TrainHeadKillTest {

  static final Path DIR = CliRunner.FIXTURES.toAbsolutePath().resolve("head-training");

  List<String> args(Path out) {
    return new ArrayList<>(List.of("train-head", "--features", DIR.resolve("features.npy").toString(), "--targets",
        DIR.resolve("targets.npy").toString(), "--output", out.toString(), "--hidden", "64", "--epochs", "60",
        "--val-fraction", "0.2", "--loss", "scs", "--lr", "3e-3", "--seed", "5"));
  }

  @Test
  void aKilledRunResumesAndEndsAsAnUninterruptedOne(@TempDir Path tmp) throws Exception {
    Path killed = tmp.resolve("killed");
    Process p = WriterKillTest.start(Main.class.getName(), args(killed), tmp.resolve("child.log"), List.of());
    int epochsAtKill;
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (epochsDone(killed) < 2 && p.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(p.isAlive()).as("still training when killed; log:%n%s", Files.readString(tmp.resolve("child.log"))).isTrue();
      p.destroyForcibly();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      epochsAtKill = epochsDone(killed);
    } finally {
      p.destroyForcibly();
    }
    assertThat(epochsAtKill).isBetween(2, 59);

    CliRunner resumed = CliRunner.run(args(killed).toArray(String[]::new));
    assertThat(resumed.exitCode()).as(resumed.err()).isZero();
    assertThat(resumed.err()).contains("resuming after step");
    Path clean = tmp.resolve("clean");
    CliRunner once = CliRunner.run(args(clean).toArray(String[]::new));
    assertThat(once.exitCode()).as(once.err()).isZero();
    for (String f : List.of(HeadTrainer.STATE, HeadTrainer.HEAD)) {
      assertThat(Files.readAllBytes(killed.resolve(f))).as(f).isEqualTo(Files.readAllBytes(clean.resolve(f)));
    }
  }

  /** Epochs finished according to the checkpoint on disk (0 while there is none or it cannot be read yet). */
  static int epochsDone(Path out) {
    Path f = out.resolve(HeadTrainer.STATE);
    if (!Files.exists(f)) {
      return 0;
    }
    try (SafetensorsFile s = SafetensorsFile.open(f)) {
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree(s.metadata().get("trainer")).path("epochs_done")
          .asInt();
    } catch (Exception e) {
      return 0;
    }
  }
}
