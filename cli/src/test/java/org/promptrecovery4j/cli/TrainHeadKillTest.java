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
import org.promptrecovery4j.training.head.HeadFolds;
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

  /**
   * A 3-fold run SIGKILLed while paused (test hook) after fold 1's 2nd epoch is checkpointed: started again with the
   * same arguments it skips fold 0, resumes fold 1, trains fold 2, and every file of the folder (folds.json, oof.npy,
   * each fold's head, config and checkpoint) has the bytes of a run never killed.
   */
  @Test
  void aKilledKFoldRunSkipsFinishedFoldsAndResumesTheOneInFlight(@TempDir Path tmp) throws Exception {
    Path killed = tmp.resolve("killed");
    Path marker = tmp.resolve("paused");
    List<String> args = new ArrayList<>(List.of("train-head", "--features", DIR.resolve("features.npy").toString(),
        "--targets", DIR.resolve("targets.npy").toString(), "--hidden", "16", "--epochs", "3", "--folds", "3",
        "--loss", "scs", "--lr", "3e-3", "--seed", "5", "--dropout", "0.1", "--output"));
    Process p = WriterKillTest.start(Main.class.getName(), with(args, killed), tmp.resolve("child.log"),
        List.of("-D" + HeadTrainer.PAUSE_AFTER_EPOCHS_PROPERTY + "=5", "-D" + HeadTrainer.PAUSE_MARKER_PROPERTY + "=" + marker));
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (!Files.exists(marker) && p.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(marker).as(Files.readString(tmp.resolve("child.log"))).exists();
      p.destroyForcibly();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as("died of SIGKILL").isEqualTo(128 + 9);
    } finally {
      p.destroyForcibly();
    }
    assertThat(epochsDone(killed.resolve("fold-0"))).isEqualTo(3);
    assertThat(epochsDone(killed.resolve("fold-1"))).isEqualTo(2);
    assertThat(killed.resolve("fold-2")).doesNotExist();
    assertThat(killed.resolve(HeadFolds.OOF)).doesNotExist();

    CliRunner resumed = CliRunner.run(with(args, killed).toArray(String[]::new));
    assertThat(resumed.exitCode()).as(resumed.err()).isZero();
    assertThat(resumed.err()).contains("fold 0: finished before").contains("fold 1: train-head: 13 training rows")
        .contains("resuming after step 6, epoch 2").contains("train-head: 3 of 3 folds finished: best validation SCS");
    Path clean = tmp.resolve("clean");
    CliRunner once = CliRunner.run(with(args, clean).toArray(String[]::new));
    assertThat(once.exitCode()).as(once.err()).isZero();
    List<String> files;
    try (var walk = Files.walk(clean)) {
      files = walk.filter(Files::isRegularFile).map(f -> clean.relativize(f).toString()).sorted().toList();
    }
    assertThat(files).hasSize(3 * 3 + 2).contains(HeadFolds.FOLDS_JSON, HeadFolds.OOF);
    for (String f : files) {
      assertThat(Files.readAllBytes(killed.resolve(f))).as(f).isEqualTo(Files.readAllBytes(clean.resolve(f)));
    }
  }

  static List<String> with(List<String> args, Path output) {
    List<String> l = new ArrayList<>(args);
    l.add(output.toString());
    return l;
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
