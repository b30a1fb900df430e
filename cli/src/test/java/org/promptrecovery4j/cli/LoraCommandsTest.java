package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.TensorJson;

/** {@code forward --adapter}, {@code generate --adapter} and {@code merge-lora} on the tiny phi fixture's PEFT adapter. */
class LoraCommandsTest {

  static Path fixture(String name) {
    return Path.of(System.getProperty("pr4j.fixtures", "../fixtures")).resolve(name);
  }

  /** The last position of row 0 (never padded) of the expected logits. */
  static float[] lastRow0(JsonNode t) {
    JsonNode row = t.get("data").get(0);
    JsonNode last = row.get(row.size() - 1);
    float[] f = new float[last.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) last.get(i).asDouble();
    }
    return f;
  }

  static void assertLogits(Path out, float[] want) throws Exception {
    INDArray got = (INDArray) TensorJson.read(out).get("logits");
    float[] row = got.slice(0).getRow(got.size(1) - 1).toFloatVector();
    for (int i = 0; i < want.length; i++) {
      assertThat((double) row[i]).as("logit %d", i).isCloseTo(want[i], org.assertj.core.data.Offset.offset(1e-3));
    }
  }

  @Test
  void forwardAndMergeGivePeftsLogits(@TempDir Path dir) throws Exception {
    JsonNode expected = new ObjectMapper().readTree(fixture("lora/tiny-phi").resolve("expected.json").toFile());
    Path out = dir.resolve("out.json");
    String inputs = fixture("tiny-phi").resolve("inputs.json").toString();
    assertThat(Main.run("forward", "--model", fixture("tiny-phi").toString(), "--adapter",
        fixture("lora/tiny-phi").toString(), "--input", inputs, "--output", out.toString())).isZero();
    assertLogits(out, lastRow0(expected.get("logits")));

    Path merged = dir.resolve("merged");
    assertThat(Main.run("merge-lora", "--model", fixture("tiny-phi").toString(), "--adapter",
        fixture("lora/tiny-phi").toString(), "--output", merged.toString())).isZero();
    Path out2 = dir.resolve("out2.json");
    assertThat(Main.run("forward", "--model", merged.toString(), "--input", inputs, "--output", out2.toString())).isZero();
    assertLogits(out2, lastRow0(expected.get("merged_logits")));

    // an existing output folder is refused, and left as it was
    long before = Files.size(merged.resolve("model.safetensors"));
    assertThat(Main.run("merge-lora", "--model", fixture("tiny-phi").toString(), "--adapter",
        fixture("lora/tiny-phi").toString(), "--output", merged.toString())).isEqualTo(1);
    assertThat(Files.size(merged.resolve("model.safetensors"))).isEqualTo(before);
  }

  @Test
  void generateTakesAnAdapterAndTheMergedFolderGeneratesTheSame(@TempDir Path dir) throws Exception {
    Path a = dir.resolve("a.json");
    Path b = dir.resolve("b.json");
    Path merged = dir.resolve("merged");
    assertThat(Main.run("merge-lora", "--model", fixture("tiny-phi").toString(), "--adapter",
        fixture("lora/tiny-phi").toString(), "--output", merged.toString())).isZero();
    assertThat(Main.run("generate", "--model", fixture("tiny-phi").toString(), "--adapter", fixture("lora/tiny-phi").toString(),
        "--input-ids", "5,17,42", "--max-new-tokens", "6", "--no-eos", "--output", a.toString())).isZero();
    assertThat(Main.run("generate", "--model", merged.toString(), "--input-ids", "5,17,42", "--max-new-tokens", "6",
        "--no-eos", "--output", b.toString())).isZero();
    JsonNode ja = new ObjectMapper().readTree(a.toFile());
    JsonNode jb = new ObjectMapper().readTree(b.toFile());
    assertThat(ja.toString()).contains("ids");
    assertThat(ja.findValue("ids")).isEqualTo(jb.findValue("ids"));
  }
}
