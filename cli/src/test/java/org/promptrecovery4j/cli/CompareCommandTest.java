package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.core.TensorJson;

class CompareCommandTest {

  @TempDir Path tmp;
  Path ref;
  Path out;
  Path ok;

  static INDArray t(float... v) {
    return Nd4j.create(v, new long[] {1, 2, 2}, 'c');
  }

  /** A capture-like reference and an output whose layer 1 is 3e-3 off at [0, 1, 0]. */
  @BeforeEach
  void files() throws IOException {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("model.embed_tokens", t(0.5f, -1, 2, 0.25f));
    r.put("model.layers.0", t(1, 2, 3, 4));
    r.put("model.layers.1", t(-1, -2, -3, -4));
    r.put("hidden_states", List.of(t(0, 0, 0, 0), t(1, 1, 1, 1)));
    Map<String, Object> o = new LinkedHashMap<>(r);
    o.put("model.layers.1", t(-1, -2, -3.003f, -4));
    o.put("logits", t(9, 9, 9, 9));
    ref = tmp.resolve("ref.json");
    out = tmp.resolve("out.json");
    ok = tmp.resolve("ok.json");
    TensorJson.write(ref, r);
    TensorJson.write(out, o);
    TensorJson.write(ok, r);
  }

  @Test
  void allWithinToleranceExitsZero() {
    CliRunner c = CliRunner.run("compare", "--expected", ref.toString(), "--actual", ok.toString());
    assertThat(c.exitCode()).as(c.err()).isZero();
    assertThat(c.out().strip().lines().reduce((a, b) -> b)).hasValue("all 5 tensors within atol=1e-4 rtol=0");
    assertThat(c.out()).containsPattern("hidden_states\\[1\\] +\\[1, 2, 2\\] +4 +0 +0 +\\[0, 0, 0\\] +1 +1 +PASS");
  }

  @Test
  void aFailingLayerExitsOneAndTheTableShowsItsWorstIndexAndValues() {
    CliRunner c = CliRunner.run("compare", "--expected", ref.toString(), "--actual", out.toString());
    assertThat(c.exitCode()).as(c.err()).isEqualTo(1);
    assertThat(c.out())
        .startsWith("name ")
        .containsPattern("model\\.layers\\.1 +\\[1, 2, 2\\] +4 +3\\.000e-03 +1\\.000e-03 +\\[0, 1, 0\\] +-3 +-3\\.003"
            + " +FAIL  1 beyond tolerance")
        .contains("not compared (only in actual): logits");
    assertThat(c.out().strip().lines().reduce((a, b) -> b))
        .hasValue("first failing layer: model.layers.1 (layer 1); 1 of 5 tensors fail atol=1e-4 rtol=0");
    // a looser tolerance passes
    assertThat(CliRunner.run("compare", "--expected", ref.toString(), "--actual", out.toString(), "--atol", "0",
        "--rtol", "2e-3").exitCode()).isZero();
  }

  @Test
  void jsonReportParses() throws IOException {
    CliRunner c = CliRunner.run("compare", "--expected", ref.toString(), "--actual", out.toString(), "--json");
    assertThat(c.exitCode()).isEqualTo(1);
    JsonNode j = new ObjectMapper().readTree(c.out());
    assertThat(j.get("passed").asBoolean()).isFalse();
    assertThat(j.get("tensors")).hasSize(5);
    JsonNode l1 = j.get("tensors").get(2);
    assertThat(l1.get("name").asText()).isEqualTo("model.layers.1");
    assertThat(l1.get("worst_index").toString()).isEqualTo("[0,1,0]");
    assertThat(l1.get("expected").asDouble()).isEqualTo(-3.0);
    assertThat(l1.get("actual").toString()).isEqualTo("-3.003");
    assertThat(l1.get("max_abs").asDouble()).isEqualTo(3.003f - 3.0);
    assertThat(j.get("first_failure").get("name").asText()).isEqualTo("model.layers.1");
    assertThat(j.get("first_failure").get("layer").asInt()).isEqualTo(1);
    assertThat(j.get("tensors").get(3).get("name").asText()).isEqualTo("hidden_states[0]");
  }

  @Test
  void theMaskOfAnInputsFileLeavesOutPaddedPositions() throws IOException {
    Path inputs = tmp.resolve("inputs.json");
    Files.writeString(inputs, "{\"input_ids\": [[5, 0]], \"attention_mask\": [[1, 0]]}");
    CliRunner c = CliRunner.run("compare", "--expected", ref.toString(), "--actual", out.toString(),
        "--mask", inputs.toString());
    assertThat(c.exitCode()).as(c.out() + c.err()).isZero(); // the 3e-3 error sits at position 1, padding
    assertThat(c.out()).contains("2/4").contains("attention mask [1, 2]: applied to 5 of 5 tensors");
  }

  @Test
  void badFilesAndUsageExitTwoNamingTheFile() throws IOException {
    Path missing = tmp.resolve("nope.json");
    CliRunner c = CliRunner.run("compare", "--expected", missing.toString(), "--actual", out.toString());
    assertThat(c.exitCode()).isEqualTo(2);
    assertThat(c.err()).isEqualTo("error: --expected " + missing + ": no such file\n");

    Path bad = tmp.resolve("bad.json");
    Files.writeString(bad, "{\"x\": {\"shape\": [3], \"data\": [1, 2]}}");
    c = CliRunner.run("compare", "--expected", ref.toString(), "--actual", bad.toString());
    assertThat(c.exitCode()).isEqualTo(2);
    assertThat(c.err()).startsWith("error: " + bad).contains("tensor 'x' has 2 values for shape [3]");

    Path inputs = tmp.resolve("inputs.json");
    Files.writeString(inputs, "{\"input_ids\": [[5, 0]], \"attention_mask\": [[1, 3]]}");
    c = CliRunner.run("compare", "--expected", ref.toString(), "--actual", out.toString(), "--mask", inputs.toString());
    assertThat(c.exitCode()).isEqualTo(2);
    assertThat(c.err()).isEqualTo("error: " + inputs + ": attention_mask holds 3 at [0, 1] (only 0 and 1 allowed)\n");

    c = CliRunner.run("compare", "--expected", ref.toString(), "--actual", out.toString(), "--atol", "-1");
    assertThat(c.exitCode()).isEqualTo(2);
    assertThat(c.err()).contains("atol must be a finite number >= 0");
    assertThat(CliRunner.run("compare", "--expected", ref.toString()).exitCode()).isEqualTo(2);
    assertThat(CliRunner.run("compare", "--expected", ref.toString(), "--actual", out.toString(), "--atol", "x")
        .exitCode()).isEqualTo(2);
  }

  @Test
  void helpSaysTheDefaults() {
    CliRunner c = CliRunner.run("compare", "--help");
    assertThat(c.exitCode()).isZero();
    assertThat(c.out()).contains("default: 1e-4").contains("default: 0").contains("Exit status: 0 all pass");
  }
}
