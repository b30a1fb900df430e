package org.promptrecovery4j.training.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.core.Npy;
import org.promptrecovery4j.core.NpyReader;
import org.promptrecovery4j.training.HeadFixtures;
import org.promptrecovery4j.training.optim.AdamW;
import org.promptrecovery4j.weights.Checkpoints;
import org.promptrecovery4j.weights.WeightSource;

class HeadTrainerTest {

  @TempDir Path tmp;

  private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

  /** The fixture's own settings (no shuffle, no validation, cosine loss, clipping at 14). */
  static HeadTrainer.Options fixtureOptions(int epochs, Path init) throws Exception {
    JsonNode ex = HeadFixtures.expected();
    return new HeadTrainer.Options(epochs, 0, ex.get("batch_size").asInt(),
        new AdamW.Settings(ex.get("lr").asDouble(), 0.85, 0.999, 1e-8, 0.005),
        ex.get("max_grad_norm").get("cosine").asDouble(), HeadLoss.COSINE, 0, 0, 0, 24, false, init);
  }

  /** With --no-shuffle and no validation, epoch 1 of 20 rows at batch 4 is exactly PyTorch's 5 fixture steps. */
  @Test
  void noShuffleTrainsRowsInFileOrderAsPyTorchDid() throws Exception {
    Path dir = HeadFixtures.dir();
    Path out = tmp.resolve("run");
    HeadTrainer.Result r = HeadTrainer.train(dir.resolve("features.npy"), dir.resolve("targets.npy"), out,
        fixtureOptions(1, dir.resolve("init.safetensors")), QUIET);
    assertThat(r.steps()).isEqualTo(5);
    assertThat(r.epochs()).hasSize(1);
    try (WeightSource mine = Checkpoints.open(out.resolve(HeadTrainer.HEAD));
         WeightSource torch = Checkpoints.open(dir.resolve("after_cosine.safetensors"))) {
      assertThat(mine.names()).containsExactlyElementsOf(RegressionHead.stateDictNames());
      assertThat(mine.load(RegressionHead.NUM_BATCHES_TRACKED).getLong(0)).isEqualTo(5);
      for (String n : new String[] {RegressionHead.W0, RegressionHead.W3, RegressionHead.BN_WEIGHT, RegressionHead.RUNNING_VAR}) {
        HeadFixtures.assertClose(n, torch.loadFloat(n), mine.loadFloat(n), 1e-4, 1e-7);
      }
    }
    // the same tensors, dtypes and shapes as PyTorch's save_file(model.state_dict()) (num_batches_tracked int64 [])
    try (WeightSource mine = Checkpoints.open(out.resolve(HeadTrainer.HEAD));
         WeightSource torch = Checkpoints.open(dir.resolve("init.safetensors"))) {
      assertThat(mine.names()).containsExactlyInAnyOrderElementsOf(torch.names());
      for (String n : torch.names()) {
        assertThat(mine.info(n).dtype()).as(n).isEqualTo(torch.info(n).dtype());
        assertThat(mine.info(n).shape()).as(n).containsExactly(torch.info(n).shape());
      }
    }
    JsonNode config = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve(HeadTrainer.CONFIG).toFile());
    assertThat(config.get("hidden").asInt()).isEqualTo(24);
    assertThat(config.get("in_features").asInt()).isEqualTo(16);
  }

  /** A run stopped after epoch 1 and started again equals one run of 3 epochs (shuffled, validation, dropout). */
  @Test
  void aResumedRunEqualsAnUninterruptedOne() throws Exception {
    Path dir = HeadFixtures.dir();
    HeadTrainer.Options three = new HeadTrainer.Options(3, 0, 4, AdamW.Settings.seed(3e-3), 1.0, HeadLoss.SCS, 0.2, 0.1,
        7, 12, true, null);
    HeadTrainer.Options one = new HeadTrainer.Options(1, 0, 4, AdamW.Settings.seed(3e-3), 1.0, HeadLoss.SCS, 0.2, 0.1,
        7, 12, true, null);
    Path a = tmp.resolve("a");
    Path b = tmp.resolve("b");
    HeadTrainer.Result full = HeadTrainer.train(dir.resolve("features.npy"), dir.resolve("targets.npy"), a, three, QUIET);
    HeadTrainer.train(dir.resolve("features.npy"), dir.resolve("targets.npy"), b, one, QUIET);
    HeadTrainer.Result resumed = HeadTrainer.train(dir.resolve("features.npy"), dir.resolve("targets.npy"), b, three, QUIET);
    assertThat(resumed.resumed()).isTrue();
    assertThat(resumed.epochs()).isEqualTo(full.epochs());
    assertThat(full.epochs()).hasSize(3).allSatisfy(e -> assertThat(e.valScs()).isFinite());
    assertThat(resumed.bestEpoch()).isEqualTo(full.bestEpoch());
    try (WeightSource x = Checkpoints.open(a.resolve(HeadTrainer.STATE)); WeightSource y = Checkpoints.open(b.resolve(HeadTrainer.STATE))) {
      assertThat(y.names()).containsExactlyElementsOf(x.names());
      for (String n : x.names()) {
        assertThat(y.load(n).equals(x.load(n))).as(n).isTrue();
      }
    }
    // the best head and the validation score it had
    RegressionHead best = RegressionHead.load(a.resolve(HeadTrainer.HEAD), 0);
    float[][] feats = NpyReader.readFloat32(dir.resolve("features.npy"));
    assertThat(best.predict(Nd4j.createFromArray(feats)).rows()).isEqualTo(20);
    // other settings on the same folder are refused
    HeadTrainer.Options other = new HeadTrainer.Options(3, 0, 4, AdamW.Settings.seed(1e-2), 1.0, HeadLoss.SCS, 0.2, 0.1,
        7, 12, true, null);
    assertThatThrownBy(() -> HeadTrainer.train(dir.resolve("features.npy"), dir.resolve("targets.npy"), a, other, QUIET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("other settings");
  }

  /** --steps 7 at 5 steps an epoch: a full epoch, then 2 steps of the next, which count as epoch 2. */
  @Test
  void stepsBoundTheRunAcrossEpochs() throws Exception {
    Path dir = HeadFixtures.dir();
    HeadTrainer.Options o = new HeadTrainer.Options(0, 7, 4, AdamW.Settings.seed(1e-3), 0, HeadLoss.MSE, 0, 0, 3, 10,
        true, null);
    HeadTrainer.Result r = HeadTrainer.train(dir.resolve("features.npy"), dir.resolve("targets.npy"), tmp.resolve("s"),
        o, QUIET);
    assertThat(r.steps()).isEqualTo(7);
    assertThat(r.epochs()).extracting(HeadTrainer.Epoch::epoch).containsExactly(1, 2);
    assertThat(RegressionHead.load(tmp.resolve("s").resolve(HeadTrainer.HEAD), 0).numBatchesTracked()).isEqualTo(7);
  }

  @Test
  void badInputsAreNamed() throws Exception {
    Path dir = HeadFixtures.dir();
    Path feats = dir.resolve("features.npy");
    Path targets = dir.resolve("targets.npy");
    Path short19 = tmp.resolve("short.npy");
    float[][] t = NpyReader.readFloat32(targets);
    Npy.writeFloat32(short19, java.util.Arrays.copyOf(t, 19));
    Path nan = tmp.resolve("nan.npy");
    t[7][3] = Float.NaN;
    Npy.writeFloat32(nan, t);
    Path out = tmp.resolve("out");
    assertThatThrownBy(() -> HeadTrainer.train(feats, short19, out, fixtureOptions(1, null), QUIET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("has 20 rows").hasMessageContaining("has 19");
    assertThatThrownBy(() -> HeadTrainer.train(feats, nan, out, fixtureOptions(1, null), QUIET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nan.npy: row 7");
    HeadTrainer.Options big = new HeadTrainer.Options(1, 0, 64, AdamW.Settings.seed(1e-3), 0, HeadLoss.MSE, 0, 0, 0, 8,
        false, null);
    assertThatThrownBy(() -> HeadTrainer.train(feats, targets, out, big, QUIET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--batch-size 64 is larger than the 20");
    // features given as targets: the --init head's output size disagrees
    assertThatThrownBy(() -> HeadTrainer.train(feats, feats, out, fixtureOptions(1, dir.resolve("init.safetensors")), QUIET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("init.safetensors: the head maps 16 → 8");
    Path notNpy = tmp.resolve("x.npy");
    Files.writeString(notNpy, "hello");
    assertThatThrownBy(() -> HeadTrainer.train(notNpy, targets, out, fixtureOptions(1, null), QUIET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("x.npy: not a .npy file");
    assertThat(Files.exists(out.resolve(HeadTrainer.HEAD))).isFalse();
  }
}
