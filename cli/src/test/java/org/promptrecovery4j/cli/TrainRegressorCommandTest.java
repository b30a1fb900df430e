package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.core.Npy;
import org.promptrecovery4j.core.NpyReader;
import org.promptrecovery4j.training.head.RegressionHead;
import org.promptrecovery4j.training.head.RegressorTrainer;

/**
 * train-regressor on the tiny DeBERTa-v3 of fixtures/deberta-v3-tiny-features (its 6 CSV rows, random targets
 * [6, 8], head 128 → 16 → 8): the folder it writes serves {@code features} and {@code predict-embedding}, and a run
 * killed with SIGKILL in the middle of an epoch resumes and ends byte for byte as an uninterrupted one.
 */
class TrainRegressorCommandTest {

  static final Path MODEL = CliRunner.FIXTURES.toAbsolutePath().resolve("deberta-v3-tiny-features");

  static Path targets(Path dir) throws Exception {
    Random r = new Random(5);
    float[][] y = new float[6][8];
    for (float[] row : y) {
      for (int j = 0; j < 8; j++) {
        row[j] = (float) r.nextGaussian();
      }
    }
    Path f = dir.resolve("targets.npy");
    Npy.writeFloat32(f, y);
    return f;
  }

  @Test
  void theTrainedFolderServesFeaturesAndPredictEmbedding(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    CliRunner r = CliRunner.run("train-regressor", "--model", MODEL.toString(), "--data", MODEL.resolve("data.csv").toString(),
        "--targets", targets(tmp).toString(), "--output", out.toString(), "--unfreeze", "1", "--hidden", "16",
        "--epochs", "2", "--batch-size", "3", "--val-fraction", "0", "--no-shuffle", "--lr", "1e-2", "--deberta-lr", "1e-3");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.err()).contains("DeBERTa: 3 layers, the top 1 layers trainable (16 tensors")
        .containsPattern("epoch 1 step 1/4: loss 0\\.\\d+ \\(epoch mean 0\\.\\d+\\), \\d+\\.\\d+ rows/s, \\d+\\.\\d s/step, ETA \\dm\\d\\ds")
        .contains("epoch 2: train loss").contains("after 4 steps");
    assertThat(r.out()).isEmpty();

    Path feats = tmp.resolve("features.npy");
    CliRunner f = CliRunner.run("features", "--model", out.resolve("deberta").toString(), "--input",
        MODEL.resolve("data.csv").toString(), "--output", feats.toString());
    assertThat(f.exitCode()).as(f.err()).isZero();
    float[][] trained = NpyReader.readFloat32(feats);
    float[][] base = NpyReader.readFloat32(MODEL.resolve("expected-max384.npy")); // the base model's (HF)
    assertThat(trained).hasDimensions(6, 128);
    // [mean hs[-1](o), mean hs[-2](o), mean hs[-1](r), mean hs[-2](r)]: only the top layer trained, so hs[-2] is as before
    double moved = 0;
    for (int i = 0; i < 6; i++) {
      for (int j = 0; j < 128; j++) {
        boolean secondToLast = (j / 32) % 2 == 1;
        double d = Math.abs(trained[i][j] - base[i][j]);
        if (secondToLast) {
          assertThat(d).as("row %d column %d", i, j).isLessThanOrEqualTo(1e-4);
        } else {
          moved = Math.max(moved, d);
        }
      }
    }
    assertThat(moved).isGreaterThan(1e-2);

    Path pred = tmp.resolve("pred.npy");
    CliRunner p = CliRunner.run("predict-embedding", "--head", out.toString(), "--features", feats.toString(),
        "--output", pred.toString());
    assertThat(p.exitCode()).as(p.err()).isZero();
    assertThat(NpyReader.readFloat32(pred)).isDeepEqualTo(RegressionHead.load(out.resolve(RegressorTrainer.HEAD), 0)
        .predict(Nd4j.createFromArray(trained)).toFloatMatrix());

    CliRunner bad = CliRunner.run("train-regressor", "--model", MODEL.toString(), "--data", MODEL.resolve("data.csv").toString(),
        "--targets", targets(tmp).toString(), "--output", tmp.resolve("bad").toString(), "--unfreeze", "top");
    assertThat(bad.exitCode()).isEqualTo(1);
    assertThat(bad.err().strip()).isEqualTo("error: --unfreeze takes a number of layers >= 0 or 'all', got 'top'");
  }

  List<String> args(Path out, Path targets) {
    return new ArrayList<>(List.of("train-regressor", "--model", MODEL.toString(), "--data",
        MODEL.resolve("data.csv").toString(), "--targets", targets.toString(), "--output", out.toString(),
        "--unfreeze", "2", "--hidden", "16", "--epochs", "3", "--batch-size", "2", "--val-fraction", "0.2",
        "--lr", "1e-2", "--deberta-lr", "1e-3", "--seed", "3", "--save-every", "1"));
  }

  /** Killed after step 3 of 6 (epoch 2 of 3, checkpointed at that step), resumed: the same files as one whole run. */
  @Test
  @EnabledOnOs(OS.LINUX)
  void aRunKilledMidEpochResumesAndEndsAsAnUninterruptedOne(@TempDir Path tmp) throws Exception {
    Path y = targets(tmp);
    Path killed = tmp.resolve("killed");
    Path marker = tmp.resolve("paused");
    Path log = tmp.resolve("child.log");
    Process p = WriterKillTest.start(Main.class.getName(), args(killed, y), log,
        List.of("-D" + RegressorTrainer.PAUSE_AFTER_STEPS_PROPERTY + "=3",
            "-D" + RegressorTrainer.PAUSE_MARKER_PROPERTY + "=" + marker));
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      while (!Files.exists(marker) && p.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(marker).as("paused after step 3; log:%n%s", Files.readString(log)).exists();
      p.destroyForcibly();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      p.destroyForcibly();
    }
    assertThat(Files.readString(log)).contains("epoch 1: train loss").doesNotContain("epoch 2: train loss");

    CliRunner resumed = CliRunner.run(args(killed, y).toArray(String[]::new));
    assertThat(resumed.exitCode()).as(resumed.err()).isZero();
    assertThat(resumed.err()).contains("(resuming after step 3, epoch 1)");
    Path clean = tmp.resolve("clean");
    CliRunner once = CliRunner.run(args(clean, y).toArray(String[]::new));
    assertThat(once.exitCode()).as(once.err()).isZero();
    for (String f : List.of(RegressorTrainer.STATE, RegressorTrainer.HEAD, RegressorTrainer.CONFIG,
        "deberta/model.safetensors", "deberta/config.json")) {
      assertThat(Files.readAllBytes(killed.resolve(f))).as(f).isEqualTo(Files.readAllBytes(clean.resolve(f)));
    }
    try (var files = Files.list(killed)) {
      assertThat(files.map(x -> x.getFileName().toString()).sorted())
          .containsExactly("deberta", "head.safetensors", "head_config.json", "train_state.safetensors");
    }
  }
}
