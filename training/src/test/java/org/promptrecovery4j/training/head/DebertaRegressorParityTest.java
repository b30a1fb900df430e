package org.promptrecovery4j.training.head;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.core.NpyReader;
import org.promptrecovery4j.models.deberta.DebertaV2Model;
import org.promptrecovery4j.training.HeadFixtures;
import org.promptrecovery4j.training.optim.AdamW;
import org.promptrecovery4j.weights.Checkpoints;
import org.promptrecovery4j.weights.WeightSource;

/**
 * Training through DeBERTa against PyTorch ({@code tools/reference/unfreeze_fixtures.py}, fixtures/deberta-unfreeze on
 * the tiny DeBERTa-v3 of fixtures/deberta-v3-tiny-features): the loss and the gradients of the unfrozen encoder layers
 * and of the head after one training-mode forward over the 6 CSV rows, for each loss, with the top layer and with all
 * layers unfrozen; and 3 AdamW steps through the top layer.
 *
 * <p>Gradients are compared against the scale of the whole set ({@code |diff| ≤ 1e-4 · max|grad| over all tensors}):
 * a tensor whose gradient is tiny (head.0.bias, exactly 0 in truth, in front of BatchNorm) is float32 noise on both
 * sides. Two tensors have a true gradient of exactly 0 here, because BatchNorm subtracts the batch mean of the
 * first Linear's output: head.0.bias (adds the same to every row) and the top layer's {@code output.LayerNorm.bias}
 * (adds the same vector to every token of hs[-1], hence to every row's features). Their gradients are checked to be
 * noise on both sides; every other tensor is also checked per tensor ({@code ≤ 1e-3 · max|its grad|}; measured
 * ≤ 3.5e-5) and per-tensor errors are printed. After AdamW, those two carry Adam's ±lr steps of noise (as in
 * HeadParityTest), so they and the running mean are compared with a slack of a few lr.
 */
class DebertaRegressorParityTest {

  static final double REL = 1e-4;
  static final Path FIXTURES = Path.of(System.getProperty("pr4j.fixtures", "../fixtures")).toAbsolutePath();
  static final Path MODEL = FIXTURES.resolve("deberta-v3-tiny-features");
  static final Path DIR = FIXTURES.resolve("deberta-unfreeze");
  static final int LAYERS = 3;

  /** Parameters whose true gradient is 0 (see the class comment). */
  static boolean zeroInTruth(String name) {
    return name.equals(RegressionHead.B0) || name.equals("encoder.layer." + (LAYERS - 1) + ".output.LayerNorm.bias");
  }

  /** What is unfrozen: the top layer, every layer, or the whole encoder (layers + the shared rel_embeddings). */
  enum Scope {
    TOP_LAYER, ALL_LAYERS, WHOLE_ENCODER;

    boolean test(String name) {
      if (this == WHOLE_ENCODER && name.startsWith("encoder.")) {
        return true;
      }
      for (int i = this == TOP_LAYER ? LAYERS - 1 : 0; i < LAYERS; i++) {
        if (name.startsWith("encoder.layer." + i + ".")) {
          return true;
        }
      }
      return false;
    }
  }

  @ParameterizedTest(name = "{0}, {1}")
  @CsvSource({"COSINE, TOP_LAYER", "SCS, TOP_LAYER", "MSE, TOP_LAYER", "COSINE, ALL_LAYERS", "SCS, ALL_LAYERS",
      "MSE, ALL_LAYERS", "COSINE, WHOLE_ENCODER"})
  void gradientsMatchPyTorch(HeadLoss loss, Scope unfrozen) throws Exception {
    DebertaRegressor model = regressor(loss, unfrozen::test);
    List<List<int[]>> ids = ids();
    DebertaRegressor.Step step = model.forwardBackward(ids.get(0), ids.get(1), targets());
    String key = loss.name().toLowerCase(Locale.ROOT);
    try (WeightSource ref = Checkpoints.open(DIR.resolve("grads_" + key + ".safetensors"))) {
      float eLoss = ref.loadFloat("loss").getFloat(0);
      System.out.printf(Locale.ROOT, "%s %s: loss %.8f (torch %.8f)%n", key, unfrozen, step.loss(), eLoss);
      assertThat((double) Math.abs(step.loss() - eLoss)).isLessThanOrEqualTo(REL * Math.abs(eLoss));
      Map<String, INDArray> expected = expectedGradients(ref, unfrozen);
      assertThat(step.gradients().keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
      double scale = 0;
      for (INDArray g : expected.values()) {
        scale = Math.max(scale, g.amaxNumber().doubleValue());
      }
      double worst = 0;
      for (Map.Entry<String, INDArray> e : expected.entrySet()) {
        INDArray mine = hfLayout(e.getKey(), step.gradients().get(e.getKey()), e.getValue());
        double tensorRel = HeadFixtures.assertClose(key + " grad " + e.getKey(), e.getValue(), mine, 0, REL * scale);
        double setRel = mine.sub(e.getValue()).amaxNumber().doubleValue() / scale;
        if (zeroInTruth(e.getKey())) {
          assertThat(e.getValue().amaxNumber().doubleValue()).as("torch's noise in " + e.getKey()).isLessThan(1e-5 * scale);
          assertThat(mine.amaxNumber().doubleValue()).as("our noise in " + e.getKey()).isLessThan(1e-5 * scale);
        } else {
          assertThat(tensorRel).as("per-tensor error of " + e.getKey()).isLessThan(1e-3);
        }
        worst = Math.max(worst, setRel);
        System.out.printf(Locale.ROOT, "  %-55s |diff|/max|grad of set| %.2e, per tensor %.2e%n", e.getKey(), setRel,
            tensorRel);
      }
      System.out.printf(Locale.ROOT, "%s %s: %d tensors, worst %.2e of the set's max |grad| %.3e%n", key, unfrozen,
          expected.size(), worst, scale);
    }
  }

  @Test
  void threeAdamWStepsThroughTheTopLayerMatchPyTorch() throws Exception {
    JsonNode ex = new ObjectMapper().readTree(DIR.resolve("expected.json").toFile());
    double lr = ex.get("lr").asDouble();
    DebertaRegressor model = regressor(HeadLoss.COSINE, Scope.TOP_LAYER::test);
    AdamW opt = new AdamW(new AdamW.Settings(lr, ex.get("betas").get(0).asDouble(), ex.get("betas").get(1).asDouble(),
        ex.get("eps").asDouble(), ex.get("weight_decay").asDouble()));
    List<List<int[]>> ids = ids();
    INDArray y = targets();
    int steps = ex.get("steps").asInt();
    try (WeightSource ref = Checkpoints.open(DIR.resolve("adamw_top1.safetensors"))) {
      for (int i = 1; i <= steps; i++) {
        DebertaRegressor.Step s = model.forwardBackward(ids.get(0), ids.get(1), y);
        opt.step(model.parameters(), s.gradients());
        float eLoss = ref.loadFloat("loss" + i).getFloat(0);
        System.out.printf(Locale.ROOT, "AdamW step %d: loss %.8f (torch %.8f)%n", i, s.loss(), eLoss);
        assertThat((double) Math.abs(s.loss() - eLoss)).as("loss at step %d", i).isLessThanOrEqualTo(REL * eLoss);
      }
      // the two tensors with a true gradient of 0: Adam turns float32 noise into ±lr steps; so for the running mean
      double slack = 2 * steps * lr;
      for (Map.Entry<String, INDArray> e : model.parameters().entrySet()) {
        INDArray expected = ref.loadFloat(e.getKey());
        INDArray mine = hfLayout(e.getKey(), e.getValue(), expected);
        boolean noisy = zeroInTruth(e.getKey());
        double scale = expected.amaxNumber().doubleValue();
        double rel = HeadFixtures.assertClose("after AdamW " + e.getKey(), expected, mine, 0,
            noisy ? slack : REL * scale);
        System.out.printf(Locale.ROOT, "  %-55s |diff|/max|w| %.2e, max |diff| %.2f lr%n", e.getKey(), rel,
            mine.sub(expected).amaxNumber().doubleValue() / lr);
      }
      RegressionHead head = model.head();
      assertThat(head.numBatchesTracked()).isEqualTo(steps);
      HeadFixtures.assertClose("running_mean", ref.loadFloat(RegressionHead.RUNNING_MEAN), head.runningMean(), 0, slack);
      HeadFixtures.assertClose("running_var", ref.loadFloat(RegressionHead.RUNNING_VAR), head.runningVar(), REL, 1e-7);
    }
  }

  @Test
  void onlyTheChosenLayersAreVariablesAndFrozenOutputsAreUnchanged() throws Exception {
    DebertaV2Model frozen = DebertaV2Model.load(MODEL);
    DebertaV2Model top = DebertaV2Model.load(MODEL, 1);
    assertThat(frozen.trainableNames()).isEmpty();
    assertThat(top.trainableNames()).isNotEmpty().allMatch(n -> n.startsWith("encoder.layer.2."))
        .contains("encoder.layer.2.attention.self.query_proj.weight", "encoder.layer.2.output.LayerNorm.bias");
    INDArray[] batch = DebertaRegressor.pad(ids().get(0), 0);
    @SuppressWarnings("unchecked")
    List<INDArray> a = (List<INDArray>) frozen.forward(batch[0], batch[1]).get("hidden_states");
    @SuppressWarnings("unchecked")
    List<INDArray> b = (List<INDArray>) top.forward(batch[0], batch[1]).get("hidden_states");
    for (int i = 0; i < a.size(); i++) {
      HeadFixtures.assertClose("hidden_states[" + i + "]", a.get(i), b.get(i), 0, 1e-5);
    }
  }

  @Test
  void embeddingTablesCannotTrainAndTopLayersIsBounded() throws Exception {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> DebertaV2Model.load(MODEL, n -> true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("embeddings.word_embeddings.weight cannot train").hasMessageContaining("topLayers");
    DebertaV2Model frozen = DebertaV2Model.load(MODEL);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> DebertaV2Model.topLayers(frozen.config(), 4))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("top 4 layers of a model with 3");
    assertThat(DebertaV2Model.topLayers(frozen.config(), 3).test("encoder.layer.0.output.dense.weight")).isTrue();
    assertThat(DebertaV2Model.topLayers(frozen.config(), 3).test("encoder.rel_embeddings.weight")).isFalse();
  }

  private static DebertaRegressor regressor(HeadLoss loss, java.util.function.Predicate<String> trainable)
      throws Exception {
    DebertaV2Model deberta = DebertaV2Model.load(MODEL, trainable);
    return DebertaRegressor.create(deberta, RegressionHead.load(DIR.resolve("head_init.safetensors"), 0), loss);
  }

  /** The reference gradients of the head and of the {@code unfrozen} encoder weights. */
  private static Map<String, INDArray> expectedGradients(WeightSource ref, Scope unfrozen) {
    Map<String, INDArray> out = new TreeMap<>();
    for (String n : ref.names()) {
      if (unfrozen.test(n) || n.startsWith("head.")) {
        out.put(n, ref.loadFloat(n));
      }
    }
    return out;
  }

  /** DeBERTa's linear weights are held [in, out]: transposed back to HF's [out, in] (tables are held as stored). */
  private static INDArray hfLayout(String name, INDArray mine, INDArray hf) {
    boolean transposed = !name.startsWith("head.") && !name.contains("embeddings") && mine.rank() == 2;
    return transposed ? mine.transpose().dup('c') : mine;
  }

  private static INDArray targets() throws Exception {
    return Nd4j.createFromArray(NpyReader.readFloat32(DIR.resolve("targets.npy")));
  }

  /** The HF token ids of the originals and of the rewritten texts. */
  private static List<List<int[]>> ids() throws Exception {
    JsonNode j = new ObjectMapper().readTree(DIR.resolve("inputs.json").toFile());
    List<List<int[]>> out = new ArrayList<>();
    for (String k : new String[] {"input_ids_original", "input_ids_rewritten"}) {
      List<int[]> rows = new ArrayList<>();
      for (JsonNode r : j.get(k)) {
        int[] ids = new int[r.size()];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = r.get(i).asInt();
        }
        rows.add(ids);
      }
      out.add(rows);
    }
    return out;
  }
}
