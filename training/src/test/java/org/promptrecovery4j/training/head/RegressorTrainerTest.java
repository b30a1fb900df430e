package org.promptrecovery4j.training.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.core.Npy;
import org.promptrecovery4j.models.deberta.DebertaV2Model;
import org.promptrecovery4j.training.features.DebertaFeatures;
import org.promptrecovery4j.training.optim.AdamW;
import org.promptrecovery4j.training.optim.GradClipping;
import org.promptrecovery4j.weights.Checkpoints;
import org.promptrecovery4j.weights.DType;
import org.promptrecovery4j.weights.WeightSource;

/**
 * train-regressor's library on the tiny DeBERTa-v3 of fixtures/deberta-v3-tiny-features (hidden 32, 3 layers, its 6
 * CSV rows) with random targets [6, 8] and a head 128 → 16 → 8: the loss goes down, the unfrozen layers (and only
 * they) change, the saved HF folder is the trained model, a resumed run equals an uninterrupted one byte for byte,
 * and bad inputs are refused by name before anything is written.
 */
class RegressorTrainerTest {

  static final Path FIXTURES = Path.of(System.getProperty("pr4j.fixtures", "../fixtures")).toAbsolutePath();
  static final Path MODEL = FIXTURES.resolve("deberta-v3-tiny-features");
  static final Path DATA = MODEL.resolve("data.csv");
  static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

  @TempDir Path tmp;

  Path targets(int rows, int cols) throws Exception {
    Random r = new Random(3);
    float[][] y = new float[rows][cols];
    for (float[] row : y) {
      for (int j = 0; j < cols; j++) {
        row[j] = (float) r.nextGaussian();
      }
    }
    Path f = tmp.resolve("targets-" + rows + "x" + cols + ".npy");
    Npy.writeFloat32(f, y);
    return f;
  }

  static RegressorTrainer.Options options(int unfreeze, int epochs, int batch, double val, boolean shuffle) {
    return new RegressorTrainer.Options(unfreeze, 384, epochs, 0, batch, AdamW.Settings.seed(1e-2), 1e-3, 1.0,
        HeadLoss.COSINE, val, 7, 16, shuffle, null, 0);
  }

  static boolean layer(String name, int i) {
    return name.startsWith("encoder.layer." + i + ".");
  }

  /** Names of the base checkpoint whose bytes differ in {@code dir}/deberta/model.safetensors. */
  static List<String> changedTensors(Path dir) throws Exception {
    List<String> changed = new ArrayList<>();
    try (WeightSource base = Checkpoints.open(MODEL); WeightSource out = Checkpoints.open(dir.resolve("deberta"))) {
      assertThat(out.names()).containsExactlyElementsOf(base.names());
      for (String n : base.names()) {
        assertThat(out.info(n).shape()).as(n).isEqualTo(base.info(n).shape());
        if (!out.bytes(n).equals(base.bytes(n))) {
          changed.add(n);
        }
      }
    }
    return changed;
  }

  @Test
  void aFewStepsLowerTheLossAndTheSavedFolderHoldsTheTrainedLayers() throws Exception {
    Path out = tmp.resolve("run");
    RegressorTrainer.Result r = RegressorTrainer.train(MODEL, DATA, targets(6, 8), out, options(2, 4, 3, 0, false), QUIET);
    assertThat(r.steps()).isEqualTo(8);
    assertThat(r.epochs()).hasSize(4);
    double first = r.epochs().get(0).trainLoss();
    double last = r.epochs().get(3).trainLoss();
    System.out.printf("train loss by epoch: %s%n", r.epochs());
    assertThat(first).isBetween(0.5, 1.5); // 1 - cos of a random head against random targets
    assertThat(last).isLessThan(first * 0.8);

    // the output folder: the head as train-head writes it, and a HF folder of the trained DeBERTa
    RegressionHead head = RegressionHead.load(out.resolve(RegressorTrainer.HEAD), 0);
    assertThat(head.config()).isEqualTo(RegressionHead.Config.of(128, 16, 8));
    assertThat(head.numBatchesTracked()).isEqualTo(8);
    assertThat(Files.readString(out.resolve(RegressorTrainer.CONFIG))).contains("\"in_features\" : 128", "\"epoch\" : 4",
        "\"unfreeze\" : 2");
    Path deberta = out.resolve(RegressorTrainer.DEBERTA);
    for (String f : List.of("config.json", "spm.model", "tokenizer_config.json")) {
      assertThat(Files.readAllBytes(deberta.resolve(f))).as(f).isEqualTo(Files.readAllBytes(MODEL.resolve(f)));
    }
    // layers 1 and 2 trained (all 16 tensors each: weight decay moves even those without gradient), the rest as stored
    List<String> changed = changedTensors(out);
    try (WeightSource base = Checkpoints.open(MODEL)) {
      assertThat(changed).containsExactlyElementsOf(base.names().stream().filter(n -> layer(n, 1) || layer(n, 2)).toList())
          .hasSize(32);
    }
    // the saved tensors are the checkpoint's, transposed back to [out, in]
    try (WeightSource saved = Checkpoints.open(deberta); WeightSource state = Checkpoints.open(out.resolve(RegressorTrainer.STATE))) {
      for (String n : changed) {
        assertThat(saved.info(n).dtype()).isEqualTo(DType.F32);
        INDArray s = state.loadFloat(n);
        boolean linear = n.endsWith("_proj.weight") || n.endsWith("dense.weight");
        assertThat(saved.loadFloat(n)).as(n).isEqualTo(linear ? s.transpose() : s);
      }
    }
  }

  @Test
  void unfreezeZeroKeepsDebertaAsStoredAndNChangesOnlyTheTopN() throws Exception {
    Path y = targets(6, 8);
    Path zero = tmp.resolve("zero");
    RegressorTrainer.train(MODEL, DATA, y, zero, options(0, 1, 3, 0, false), QUIET);
    assertThat(changedTensors(zero)).isEmpty();
    RegressionHead fresh = RegressionHead.initialize(RegressionHead.Config.of(128, 16, 8), 7);
    RegressionHead trained = RegressionHead.load(zero.resolve(RegressorTrainer.HEAD), 0);
    assertThat(trained.parameters().get(RegressionHead.W3)).isNotEqualTo(fresh.parameters().get(RegressionHead.W3));

    Path one = tmp.resolve("one");
    RegressorTrainer.train(MODEL, DATA, y, one, options(1, 1, 3, 0, false), QUIET);
    assertThat(changedTensors(one)).hasSize(16).allMatch(n -> layer(n, 2));

    Path all = tmp.resolve("all");
    RegressorTrainer.train(MODEL, DATA, y, all, options(RegressorTrainer.ALL, 1, 3, 0, false), QUIET);
    try (WeightSource base = Checkpoints.open(MODEL)) {
      assertThat(changedTensors(all)).containsExactlyElementsOf(
          base.names().stream().filter(n -> n.startsWith("encoder.")).toList()); // 48 layer tensors, rel_embeddings, LayerNorm
    }
  }

  /** The folder {@link RegressorTrainer#saveDeberta} writes loads as the model that was trained, in memory. */
  @Test
  void theSavedFolderGivesTheTrainedModelsHiddenStatesAndFeatures() throws Exception {
    DebertaV2Model deberta = DebertaV2Model.load(MODEL, 2);
    DebertaFeatures tok = DebertaFeatures.open(MODEL, 384);
    RegressionHead head = RegressionHead.initialize(RegressionHead.Config.of(128, 16, 8), 1);
    DebertaRegressor model = DebertaRegressor.create(deberta, head, HeadLoss.COSINE);
    AdamW opt = new AdamW(AdamW.Settings.seed(1e-2));
    Csv.Table t = Csv.read(DATA);
    List<int[]> o = t.rows().stream().map(row -> tok.encode(row.get(1))).toList();
    List<int[]> w = t.rows().stream().map(row -> tok.encode(row.get(2))).toList();
    float[][] yv = new float[6][8];
    Random rng = new Random(11);
    for (float[] row : yv) {
      for (int j = 0; j < row.length; j++) {
        row[j] = (float) rng.nextGaussian();
      }
    }
    INDArray y = Nd4j.createFromArray(yv);
    for (int i = 0; i < 3; i++) {
      DebertaRegressor.Step s = model.forwardBackward(o, w, y);
      GradClipping.clipGradNorm(s.gradients().values(), 1.0);
      opt.step(model.parameters(), s.gradients());
    }
    Path saved = tmp.resolve("deberta");
    RegressorTrainer.saveDeberta(deberta, MODEL, saved);
    DebertaV2Model reloaded = DebertaV2Model.load(saved);
    DebertaV2Model base = DebertaV2Model.load(MODEL);
    INDArray[] batch = DebertaRegressor.pad(o, 0);
    List<INDArray> trained = hiddenStates(deberta, batch);
    List<INDArray> loaded = hiddenStates(reloaded, batch);
    List<INDArray> before = hiddenStates(base, batch);
    assertThat(loaded).hasSize(4);
    for (int l = 0; l < 4; l++) {
      double diff = trained.get(l).sub(loaded.get(l)).amaxNumber().doubleValue();
      double moved = trained.get(l).sub(before.get(l)).amaxNumber().doubleValue();
      System.out.printf("hidden_states[%d]: |trained - reloaded| %.2e, |trained - base| %.2e%n", l, diff, moved);
      assertThat(diff).as("layer %d", l).isLessThanOrEqualTo(1e-5);
      if (l < 2) { // the embeddings and frozen layer 0
        assertThat(moved).as("layer %d", l).isZero();
      } else {
        assertThat(moved).as("layer %d", l).isGreaterThan(1e-3);
      }
    }
    float[][] inMemory = tok.using(deberta).rows(o, w);
    float[][] fromFolder = DebertaFeatures.open(saved, 384).rows(o, w);
    for (int i = 0; i < 6; i++) {
      for (int j = 0; j < 128; j++) {
        assertThat(fromFolder[i][j]).isCloseTo(inMemory[i][j], org.assertj.core.data.Offset.offset(1e-5f));
      }
    }
    // written again over the old folder: replaced whole, nothing left beside it
    RegressorTrainer.saveDeberta(base, MODEL, saved);
    try (Stream<Path> files = Files.list(tmp)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("deberta");
    }
  }

  @SuppressWarnings("unchecked")
  static List<INDArray> hiddenStates(DebertaV2Model m, INDArray[] idsAndMask) {
    Map<String, Object> out = m.forward(idsAndMask[0], idsAndMask[1].castTo(DataType.INT));
    return (List<INDArray>) out.get("hidden_states");
  }

  /** Epoch 1, then the same settings to 3 epochs: the same files, byte for byte, as 3 epochs at once. */
  @Test
  void aResumedRunEqualsAnUninterruptedOne() throws Exception {
    Path y = targets(6, 8);
    Path a = tmp.resolve("a");
    Path b = tmp.resolve("b");
    RegressorTrainer.Result full = RegressorTrainer.train(MODEL, DATA, y, a, options(1, 3, 2, 0.2, true), QUIET);
    RegressorTrainer.Result first = RegressorTrainer.train(MODEL, DATA, y, b, options(1, 1, 2, 0.2, true), QUIET);
    assertThat(first.steps()).isEqualTo(2);
    RegressorTrainer.Result resumed = RegressorTrainer.train(MODEL, DATA, y, b, options(1, 3, 2, 0.2, true), QUIET);
    assertThat(resumed.resumed()).isTrue();
    assertThat(resumed.epochs()).isEqualTo(full.epochs()).hasSize(3).allSatisfy(e -> assertThat(e.valScs()).isFinite());
    assertThat(resumed.bestEpoch()).isEqualTo(full.bestEpoch());
    // the best validation SCS is that of the saved folder and head: features of a/deberta, eval-mode head, mean cos³
    int[] rows = {0, 1, 2, 3, 4, 5};
    org.promptrecovery4j.training.Shuffling.shuffle(rows, new Random(7));
    int[] val = {rows[4], rows[5]};
    DebertaFeatures saved = DebertaFeatures.open(a.resolve(RegressorTrainer.DEBERTA), 384);
    Csv.Table t = Csv.read(DATA);
    float[][] x = saved.texts(List.of(t.rows().get(val[0]).get(1), t.rows().get(val[1]).get(1)),
        List.of(t.rows().get(val[0]).get(2), t.rows().get(val[1]).get(2)), 8);
    float[][] pred = RegressionHead.load(a.resolve(RegressorTrainer.HEAD), 0).predict(Nd4j.createFromArray(x)).toFloatMatrix();
    float[][] targets = org.promptrecovery4j.core.NpyReader.readFloat32(y);
    double scs = 0;
    for (int i = 0; i < 2; i++) {
      double c = org.promptrecovery4j.evaluation.SharpenedCosine.cosine(pred[i], targets[val[i]]);
      scs += c * c * c / 2;
    }
    System.out.printf("best epoch %d of %s; validation SCS recomputed from the saved folder %.7f%n", full.bestEpoch(),
        full.epochs(), scs);
    assertThat(scs).isCloseTo(full.bestValScs(), org.assertj.core.data.Offset.offset(1e-7));
    for (String f : List.of(RegressorTrainer.STATE, RegressorTrainer.HEAD, RegressorTrainer.CONFIG, "deberta/model.safetensors")) {
      assertThat(Files.readAllBytes(b.resolve(f))).as(f).isEqualTo(Files.readAllBytes(a.resolve(f)));
    }
    RegressorTrainer.Options other = new RegressorTrainer.Options(1, 384, 3, 0, 2, AdamW.Settings.seed(1e-2), 1e-4, 1.0,
        HeadLoss.COSINE, 0.2, 7, 16, true, null, 0);
    assertThatThrownBy(() -> RegressorTrainer.train(MODEL, DATA, y, a, other, QUIET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("other settings").hasMessageContaining("deberta_lr");
  }

  @Test
  void badInputsAreRefusedByNameBeforeAnythingIsWritten() throws Exception {
    Path out = tmp.resolve("out");
    Path five = targets(5, 8);
    assertThatThrownBy(() -> RegressorTrainer.train(MODEL, DATA, five, out, options(1, 1, 3, 0, false), QUIET))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(five + " has 5 rows but " + DATA + " has 6");

    Path init = tmp.resolve("init.safetensors");
    RegressionHead.initialize(RegressionHead.Config.of(128, 16, 8), 1).save(init);
    RegressorTrainer.Options withInit = new RegressorTrainer.Options(1, 384, 1, 0, 3, AdamW.Settings.seed(1e-2), 1e-3,
        1.0, HeadLoss.COSINE, 0, 7, 16, false, init, 0);
    Path narrow = targets(6, 5);
    assertThatThrownBy(() -> RegressorTrainer.train(MODEL, DATA, narrow, out, withInit, QUIET))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(init + ": the head maps 128 → 8").hasMessageContaining(narrow + " has 5 columns");

    assertThatThrownBy(() -> RegressorTrainer.train(MODEL, DATA, targets(6, 8), out, options(4, 1, 3, 0, false), QUIET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--unfreeze 4: " + MODEL + " has 3 layers");
    assertThat(out).doesNotExist();
  }
}
