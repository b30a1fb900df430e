package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.core.TensorJson;

/**
 * README's three steps on committed fixtures: a reference dumped by tools/reference/dump_activations.py
 * (fixtures/numerics-kit/tiny-mistral-4l/activations.json), {@code forward --capture} on the JVM, {@code compare}.
 * The intact model passes; a copy with one weight of layer 2 changed is named by its first failing layer.
 */
class LayerNumericsWorkflowTest {

  private static final Path KIT = CliRunner.FIXTURES.resolve("numerics-kit");

  @TempDir Path tmp;

  private CliRunner captureAndCompare(String model) {
    Path out = tmp.resolve(model + ".json");
    CliRunner f = CliRunner.run("forward", "--model", KIT.resolve(model).toString(),
        "--input", KIT.resolve("tiny-mistral-4l/inputs.json").toString(),
        "--capture", "model.layers.*,model.layers.*.mlp.*", "--output", out.toString());
    assertThat(f.exitCode()).as(f.err()).isZero();
    return CliRunner.run("compare", "--expected", KIT.resolve("tiny-mistral-4l/activations.json").toString(),
        "--actual", out.toString(), "--mask", KIT.resolve("tiny-mistral-4l/inputs.json").toString(), "--skip-missing");
  }

  @Test
  void theIntactModelPassesEveryCapturedLayer() throws Exception {
    CliRunner c = captureAndCompare("tiny-mistral-4l");
    assertThat(c.exitCode()).as(c.out() + c.err()).isZero();
    assertThat(c.out().strip().lines().reduce((a, b) -> b)).hasValue("all 21 tensors within atol=1e-4 rtol=0");
    assertThat(c.err()).startsWith("37 tensors of ").contains("(--skip-missing): model.embed_tokens, model.rotary_emb,");
    Map<String, Object> written = TensorJson.read(tmp.resolve("tiny-mistral-4l.json"));
    assertThat(written.keySet()).startsWith("logits", "model.layers.0.mlp.gate_proj", "model.layers.0.mlp.up_proj",
        "model.layers.0.mlp.act_fn", "model.layers.0.mlp.down_proj", "model.layers.0");
  }

  @Test
  void aWeightChangedInLayerTwoIsNamedAsTheFirstFailingLayer() {
    CliRunner c = captureAndCompare("tiny-mistral-4l-broken-layer2");
    assertThat(c.exitCode()).isEqualTo(1);
    assertThat(c.out().strip().lines().reduce((a, b) -> b))
        .hasValue("first failing layer: model.layers.2.mlp.down_proj (layer 2); 8 of 21 tensors fail atol=1e-4 rtol=0");
    assertThat(c.out()).containsPattern("model.layers.1 +\\[3, 8, 32\\] +576/768 .* PASS")
        .containsPattern("model.layers.2.mlp.down_proj +\\[3, 8, 32\\] +576/768 +1\\.899e\\+00 .* FAIL");
  }

  /** sentence-t5's activations reach ~35: 1e-4 absolute is too tight there, 1e-4 of the scale is the rule. */
  @Test
  void tensorsOfLargeScaleAreComparedWithAScaledAtol() {
    Path t5 = CliRunner.FIXTURES.resolve("sentence-t5-tiny");
    Path out = tmp.resolve("t5.json");
    assertThat(CliRunner.run("forward", "--model", t5.toString(), "--input", t5.resolve("inputs.json").toString(),
        "--capture", "encoder.block.*", "--output", out.toString()).exitCode()).isZero();
    String[] compare = {"compare", "--expected", t5.resolve("activations.json").toString(), "--actual", out.toString(),
      "--mask", t5.resolve("inputs.json").toString(), "--skip-missing"};
    assertThat(CliRunner.run(compare).exitCode()).isEqualTo(1);
    String[] scaled = java.util.Arrays.copyOf(compare, compare.length + 1);
    scaled[compare.length] = "--atol-scaled";
    CliRunner c = CliRunner.run(scaled);
    assertThat(c.exitCode()).as(c.out()).isZero();
    assertThat(c.out().strip().lines().reduce((a, b) -> b)).hasValue("all 2 tensors within atol=1e-4×scale rtol=0");
  }

  @Test
  void listModulesPrintsTheNamesCaptureAnswersTo() {
    CliRunner c = CliRunner.run("forward", "--model", KIT.resolve("tiny-mistral-4l").toString(), "--list-modules");
    assertThat(c.exitCode()).as(c.err()).isZero();
    assertThat(c.out().lines()).hasSize(56).startsWith("model.embed_tokens", "model.layers.0.input_layernorm",
        "model.layers.0.self_attn.q_proj").endsWith("model.norm", "model", "lm_head");
  }

  @Test
  void anUnknownModuleIsAnErrorNamingCloseOnes() {
    CliRunner c = CliRunner.run("forward", "--model", KIT.resolve("tiny-mistral-4l").toString(),
        "--input", KIT.resolve("tiny-mistral-4l/inputs.json").toString(), "--output", tmp.resolve("x.json").toString(),
        "--capture", "model.layers.*.mlp.gate");
    assertThat(c.exitCode()).isNotZero();
    assertThat(c.err()).contains("no module matches 'model.layers.*.mlp.gate'; close matches: ");
    assertThat(tmp.resolve("x.json")).doesNotExist();
  }
}
