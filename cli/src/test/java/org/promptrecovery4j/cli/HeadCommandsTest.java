package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.core.Npy;
import org.promptrecovery4j.core.NpyReader;
import org.promptrecovery4j.training.head.RegressionHead;
import org.promptrecovery4j.weights.Checkpoints;
import org.promptrecovery4j.weights.WeightSource;

/** train-head and predict-embedding on fixtures/head-training (the 5 PyTorch AdamW steps of the seed's head). */
class HeadCommandsTest {

  static final Path DIR = CliRunner.FIXTURES.resolve("head-training");

  @Test
  void trainHeadReproducesPyTorchAndPredictEmbeddingUsesTheRunningStats(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("head");
    CliRunner r = CliRunner.run("train-head", "--features", DIR.resolve("features.npy").toString(),
        "--targets", DIR.resolve("targets.npy").toString(), "--output", out.toString(),
        "--init", DIR.resolve("init.safetensors").toString(), "--no-shuffle", "--val-fraction", "0", "--epochs", "1",
        "--batch-size", "4", "--lr", "1e-3", "--betas", "0.85,0.999", "--eps", "1e-8", "--weight-decay", "0.005",
        "--max-grad-norm", "14", "--loss", "cosine");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.err()).contains("epoch 1: train loss 1.14").contains("after 5 steps");
    try (WeightSource mine = Checkpoints.open(out.resolve("head.safetensors"));
         WeightSource torch = Checkpoints.open(DIR.resolve("after_cosine.safetensors"))) {
      for (String n : new String[] {RegressionHead.W0, RegressionHead.W3, RegressionHead.B3, RegressionHead.RUNNING_VAR}) {
        float[] a = mine.readFloats(n);
        float[] e = torch.readFloats(n);
        for (int i = 0; i < e.length; i++) {
          assertThat((double) Math.abs(a[i] - e[i])).as(n + "[" + i + "]").isLessThanOrEqualTo(1e-4 * Math.abs(e[i]) + 1e-7);
        }
      }
      assertThat(mine.load(RegressionHead.NUM_BATCHES_TRACKED).getLong(0)).isEqualTo(5);
    }
    assertThat(out.resolve("head_config.json")).exists();
    assertThat(out.resolve("train_state.safetensors")).exists();

    Path pred = tmp.resolve("pred.npy");
    CliRunner p = CliRunner.run("predict-embedding", "--head", out.toString(), "--features",
        DIR.resolve("features.npy").toString(), "--output", pred.toString());
    assertThat(p.exitCode()).as(p.err()).isZero();
    float[][] got = NpyReader.readFloat32(pred);
    assertThat(got).hasDimensions(20, 8);
    INDArray expected = RegressionHead.load(out.resolve("head.safetensors"), 0)
        .predict(Nd4j.createFromArray(NpyReader.readFloat32(DIR.resolve("features.npy"))));
    assertThat(got).isDeepEqualTo(expected.toFloatMatrix());
  }

  /** --folds 4: four fold heads, folds.json, oof.npy, and predict-embedding's mean over the fold heads. */
  @Test
  void kFoldTrainingAndTheMeanPrediction(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("folds");
    CliRunner r = CliRunner.run("train-head", "--features", DIR.resolve("features.npy").toString(), "--targets",
        DIR.resolve("targets.npy").toString(), "--output", out.toString(), "--hidden", "8", "--epochs", "2",
        "--folds", "4", "--lr", "3e-3");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.err()).contains("fold 3 of 4: validating on 5 rows, training on 15")
        .containsPattern("train-head: 4 of 4 folds finished: best validation SCS -?0\\.\\d{5} ± 0\\.\\d{5} \\(mean ± std over"
            + " folds\\), out-of-fold SCS -?0\\.\\d{5}; wrote .*oof.npy");
    for (int k = 0; k < 4; k++) {
      assertThat(out.resolve("fold-" + k).resolve("head.safetensors")).exists();
    }
    assertThat(NpyReader.readFloat32(out.resolve("oof.npy"))).hasDimensions(20, 8);
    Path pred = tmp.resolve("pred.npy");
    CliRunner p = CliRunner.run("predict-embedding", "--head", out.toString(), "--features",
        DIR.resolve("features.npy").toString(), "--output", pred.toString());
    assertThat(p.exitCode()).as(p.err()).isZero();
    INDArray x = Nd4j.createFromArray(NpyReader.readFloat32(DIR.resolve("features.npy")));
    double[][] sum = new double[20][8];
    for (int k = 0; k < 4; k++) {
      float[][] one = RegressionHead.load(out.resolve("fold-" + k).resolve("head.safetensors"), 0).predict(x).toFloatMatrix();
      for (int i = 0; i < 20; i++) {
        for (int c = 0; c < 8; c++) {
          sum[i][c] += one[i][c];
        }
      }
    }
    float[][] got = NpyReader.readFloat32(pred);
    for (int i = 0; i < 20; i++) {
      for (int c = 0; c < 8; c++) {
        assertThat(got[i][c]).isEqualTo((float) (sum[i][c] / 4));
      }
    }

    CliRunner both = CliRunner.run("train-head", "--features", DIR.resolve("features.npy").toString(), "--targets",
        DIR.resolve("targets.npy").toString(), "--output", tmp.resolve("x").toString(), "--folds", "4",
        "--val-fraction", "0.1");
    assertThat(both.exitCode()).isEqualTo(1);
    assertThat(both.err().strip()).startsWith("error: ").contains("--folds 4 and --val-fraction 0.1 together")
        .doesNotContain("\n");
    CliRunner lone = CliRunner.run("train-head", "--features", DIR.resolve("features.npy").toString(), "--targets",
        DIR.resolve("targets.npy").toString(), "--output", tmp.resolve("x").toString(), "--fold", "1");
    assertThat(lone.exitCode()).isEqualTo(1);
    assertThat(lone.err()).contains("error: --fold 1 needs --folds K");
    assertThat(tmp.resolve("x")).doesNotExist();
  }

  @Test
  void badInputsEndInOneErrorLine(@TempDir Path tmp) throws Exception {
    Path targets19 = tmp.resolve("t19.npy");
    Npy.writeFloat32(targets19, Arrays.copyOf(NpyReader.readFloat32(DIR.resolve("targets.npy")), 19));
    Path out = tmp.resolve("head");
    CliRunner r = CliRunner.run("train-head", "--features", DIR.resolve("features.npy").toString(), "--targets",
        targets19.toString(), "--output", out.toString(), "--hidden", "8");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err().strip()).startsWith("error: ").contains("features.npy has 20 rows").contains("t19.npy has 19")
        .doesNotContain("\n");
    assertThat(out.resolve("head.safetensors")).doesNotExist();

    CliRunner l = CliRunner.run("train-head", "--features", DIR.resolve("features.npy").toString(), "--targets",
        DIR.resolve("targets.npy").toString(), "--output", out.toString(), "--loss", "hinge");
    assertThat(l.exitCode()).isEqualTo(1);
    assertThat(l.err()).contains("error: unknown loss 'hinge' (expected cosine, scs or mse)");

    CliRunner p = CliRunner.run("predict-embedding", "--head", tmp.toString(), "--features",
        DIR.resolve("features.npy").toString(), "--output", tmp.resolve("p.npy").toString());
    assertThat(p.exitCode()).isEqualTo(1);
    assertThat(p.err()).contains("error: ").contains("no trained head");
    // a head whose input size differs from the features
    Path wide = tmp.resolve("wide.npy");
    Npy.writeFloat32(wide, new float[][] {{1, 2, 3}, {4, 5, 6}});
    CliRunner w = CliRunner.run("predict-embedding", "--head", DIR.resolve("init.safetensors").toString(), "--features",
        wide.toString(), "--output", tmp.resolve("p.npy").toString());
    assertThat(w.exitCode()).isEqualTo(1);
    assertThat(w.err()).contains("wide.npy has 3 columns, the head in").contains("takes 16");
    assertThat(Files.exists(tmp.resolve("p.npy"))).isFalse();
  }
}
