package org.promptrecovery4j.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.TensorJson;
import org.promptrecovery4j.core.numerics.ComparisonReport;
import org.promptrecovery4j.core.numerics.TensorComparison;
import org.promptrecovery4j.core.numerics.TensorDiff;
import org.promptrecovery4j.core.numerics.Tolerance;
import org.promptrecovery4j.models.generation.DecoderOptions;
import org.promptrecovery4j.models.lora.LoraAdapter;

/**
 * Every module output the JVM can capture ({@code **}) against {@code tools/reference/dump_activations.py}'s dump of
 * the same fixture with the same inputs (committed {@code activations.json}): every JVM capture has a reference entry,
 * every layer is among them, and all agree within 1e-4 × the tensor's scale (max(1, max |expected|)) at non-padded
 * positions (HF leaves padded positions undefined). A copy of a 4-layer model with one weight of layer 2 changed fails first at layer 2.
 */
class CaptureReferenceTest {

  private static final Tolerance TOLERANCE = Tolerance.of(1e-4, 0);

  static Stream<Arguments> fixtures() {
    return Stream.of(
        Arguments.of("tiny-mistral-gqa2", null, "model\\.layers\\.\\d+", 2, 30),
        Arguments.of("tiny-phi", null, "model\\.layers\\.\\d+", 2, 26),
        Arguments.of("tiny-gemma-bf16", null, "model\\.layers\\.\\d+", 2, 30),
        Arguments.of("tiny-mistral-gqa2", "lora/tiny-mistral-gqa2", "model\\.layers\\.\\d+", 2, 30),
        Arguments.of("tiny-phi", "lora/tiny-phi", "model\\.layers\\.\\d+", 2, 26),
        Arguments.of("tiny-gemma-bf16", "lora/tiny-gemma-bf16", "model\\.layers\\.\\d+", 2, 30),
        Arguments.of("numerics-kit/tiny-mistral-4l", null, "model\\.layers\\.\\d+", 4, 56),
        Arguments.of("bert-tiny-mean", null, "encoder\\.layer\\.\\d+", 2, 35),
        Arguments.of("sentence-t5-tiny", null, "encoder\\.block\\.\\d+", 2, 31),
        Arguments.of("deberta-v3-tiny-features", null, "encoder\\.layer\\.\\d+", 3, 49));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("fixtures")
  void everyCapturedModuleMatchesTheReferenceDump(String fixture, String adapter, String layerName, int layers,
      int modules) throws Exception {
    Path dir = Fixtures.dir(fixture);
    Path refDir = adapter == null ? dir : Fixtures.dir(adapter);
    Map<String, Object> in = TensorJson.read(dir.resolve("inputs.json"));
    INDArray mask = (INDArray) in.get("attention_mask");
    Map<String, Object> captured;
    List<String> names;
    try (ForwardModel m = adapter == null ? Models.load(dir)
        : LoraAdapter.load(refDir).loadOnto(dir, DecoderOptions.defaults())) {
      names = m.capturableModules();
      captured = m.forward((INDArray) in.get("input_ids"), mask, (INDArray) in.get("token_type_ids"), List.of("**"));
    }
    assertThat(names).hasSize(modules);
    Map<String, Object> reference = TensorJson.read(refDir.resolve("activations.json"));
    List<String> failures = new java.util.ArrayList<>();
    for (String n : names) {
      assertThat(reference).as("the reference dump has the JVM's module %s", n).containsKey(n);
      INDArray e = (INDArray) reference.get(n);
      // 1e-4 relative to the tensor's scale (T5's activations reach ~35)
      TensorDiff d = TensorComparison.compare(n, e, (INDArray) captured.get(n), Tolerance.scaled(1e-4, 0), mask);
      if (!d.passed()) {
        failures.add(d.describe());
      }
    }
    assertThat(failures).isEmpty();
    assertThat(names.stream().filter(n -> Pattern.matches(layerName, n))).as("every layer is captured").hasSize(layers);
  }

  @Test
  void aWeightChangedInLayerTwoFailsFirstAtLayerTwo() throws Exception {
    Path reference = Fixtures.dir("numerics-kit/tiny-mistral-4l");
    Map<String, Object> in = TensorJson.read(reference.resolve("inputs.json"));
    INDArray mask = (INDArray) in.get("attention_mask");
    Map<String, Object> captured;
    try (ForwardModel m = Models.load(Fixtures.dir("numerics-kit/tiny-mistral-4l-broken-layer2"))) {
      captured = m.forward((INDArray) in.get("input_ids"), mask, null, List.of("model.layers.*", "model.layers.*.mlp.*"));
    }
    captured.remove("logits");
    Map<String, Object> expected = new LinkedHashMap<>(TensorJson.read(reference.resolve("activations.json")));
    expected.keySet().retainAll(captured.keySet());
    ComparisonReport report = TensorComparison.compare(expected, captured, TOLERANCE, mask);
    assertThat(report.passed()).isFalse();
    TensorDiff first = report.firstFailure().orElseThrow();
    assertThat(first.name()).isEqualTo("model.layers.2.mlp.down_proj");
    assertThat(first.layer()).hasValue(2);
    assertThat(report.failures()).allSatisfy(d -> assertThat(d.layer().orElseThrow()).isGreaterThanOrEqualTo(2));
  }

  /** Captures join the graph when first asked for: after plain passes, and without changing the plain outputs. */
  @Test
  void capturesAskedForAfterPlainPassesGiveTheSameValues() throws Exception {
    Path dir = Fixtures.dir("tiny-phi");
    Map<String, Object> in = TensorJson.read(dir.resolve("inputs.json"));
    INDArray ids = (INDArray) in.get("input_ids");
    INDArray mask = (INDArray) in.get("attention_mask");
    try (ForwardModel first = Models.load(dir); ForwardModel later = Models.load(dir)) {
      Map<String, Object> direct = first.forward(ids, mask, null, List.of("model.layers.1.self_attn.*"));
      INDArray plain = ((INDArray) later.forward(ids, mask).get("logits")).dup();
      Map<String, Object> captured = later.forward(ids, mask, null, List.of("model.layers.1.self_attn.*"));
      assertThat(captured.keySet()).containsExactly("logits", "model.layers.1.self_attn.q_proj",
          "model.layers.1.self_attn.k_proj", "model.layers.1.self_attn.v_proj", "model.layers.1.self_attn.dense");
      assertThat(captured).isEqualTo(direct);
      assertThat(captured.get("logits")).isEqualTo(plain);
    }
  }

  @Test
  void aPatternNoModuleMatchesNamesCloseOnes() throws Exception {
    Path dir = Fixtures.dir("tiny-phi");
    Map<String, Object> in = TensorJson.read(dir.resolve("inputs.json"));
    try (ForwardModel m = Models.load(dir)) {
      assertThatThrownBy(() -> m.forward((INDArray) in.get("input_ids"), null, null, List.of("model.layers.0.mlp.gate_proj")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("no module matches 'model.layers.0.mlp.gate_proj'; close matches: ")
          .hasMessageContaining("model.layers.0.mlp.fc1");
    }
  }
}
