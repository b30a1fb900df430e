package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchDecoderCommandTest {

  static final ObjectMapper JSON = new ObjectMapper();

  /** A copy of a tiny fixture with a context of 1024 tokens (theirs, 64, is shorter than the 512-token prefill). */
  static Path longContextCopy(Path tmp, String fixture) throws Exception {
    Path src = CliRunner.FIXTURES.resolve(fixture);
    Path dir = Files.createDirectories(tmp.resolve(fixture));
    ObjectNode config = (ObjectNode) JSON.readTree(src.resolve("config.json").toFile());
    config.put("max_position_embeddings", 1024);
    JSON.writeValue(dir.resolve("config.json").toFile(), config);
    Files.copy(src.resolve("model.safetensors"), dir.resolve("model.safetensors"));
    return dir;
  }

  @Test
  void speedJsonHasEveryKeyPositiveOnStdoutAndInTheFile(@TempDir Path tmp) throws Exception {
    Path model = longContextCopy(tmp, "tiny-mistral-gqa2");
    Path out = tmp.resolve("result.json");
    CliRunner r = CliRunner.run("bench-decoder", "--model", model.toString(), "--runs", "1", "--warmup", "1",
        "--output", out.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    JsonNode file = JSON.readTree(out.toFile());
    assertThat(JSON.readTree(r.out())).isEqualTo(file);
    for (String key : new String[] {"decode_b1_tok_s", "decode_b16_tok_s", "prefill64_s", "prefill512_s",
        "peak_rss_gib", "load_s", "weight_gib", "threads"}) {
      assertThat(file.get(key)).as(key).isNotNull();
      assertThat(file.get(key).asDouble()).as(key).isPositive();
    }
    assertThat(file.get("compute").asText()).isEqualTo("float32");
    // tiny-mistral-gqa2: 96·32 embeddings + 96·32 head + 2 layers of 32·(32+16+16+32) + 3·32·48 + 2·32, + 32 norm
    long params = 2L * 96 * 32 + 2L * (32 * 96 + 3 * 32 * 48 + 2 * 32) + 32;
    double held = file.get("weight_gib").asDouble() * (1L << 30);
    if (org.promptrecovery4j.models.nn.OneDnn.packsFloat32()) {
      // the matrices packed for oneDNN 3.3 are padded to its blocks (64 columns): tiny sizes pad a lot, real ones none
      assertThat(held).isGreaterThan(params * 4.0).isLessThan(params * 4.0 * 1.5);
    } else {
      assertThat(held).isEqualTo(params * 4.0);
    }
    assertThat(r.err()).contains("warm-up round 1 of 1: prefill 64", "prefill 64 tokens:", "prefill 512 tokens:",
        "decode batch 1:", "decode batch 16:");
    assertThat(file.get("warmup_rounds").asInt()).isEqualTo(1);
  }

  @Test
  void phasesAsStoredWithAnRssRunRecordStepsAndSamples(@TempDir Path tmp) throws Exception {
    Path model = longContextCopy(tmp, "tiny-llama-gqa3-bf16");
    CliRunner r = CliRunner.run("bench-decoder", "--model", model.toString(), "--compute", "as-stored",
        "--only", "phases", "--minutes", "0.02", "--sample-seconds", "0.4");
    assertThat(r.exitCode()).as(r.err()).isZero();
    JsonNode j = JSON.readTree(r.out());
    assertThat(j.get("compute").asText()).isEqualTo("as-stored");
    assertThat(j.get("prefill64_s").asDouble()).isPositive();
    assertThat(j.get("decode16_b1_tok_s").asDouble()).isPositive();
    assertThat(j.get("steps")).hasSize(16);
    assertThat(j.get("steps").get(15).get("peak_gib").asDouble()).isPositive();
    JsonNode memory = j.get("memory");
    assertThat(memory.get("seconds").asDouble()).isGreaterThanOrEqualTo(1.2);
    assertThat(memory.get("generated_tokens").asLong()).isPositive();
    assertThat(memory.get("samples").size()).isGreaterThanOrEqualTo(3); // start, every 0.4 s, end
    for (JsonNode s : memory.get("samples")) {
      assertThat(s.get("anon_gib").asDouble()).isPositive();
      assertThat(s.get("peak_gib").asDouble()).isGreaterThanOrEqualTo(s.get("anon_gib").asDouble());
    }
    assertThat(r.err()).contains("decode step 15:", "memory ");
  }

  @Test
  void badInputsAreOneLineNamedErrorsAndWriteNothing(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("result.json");
    Path tiny = CliRunner.FIXTURES.resolve("tiny-mistral-gqa2");
    CliRunner badCompute = CliRunner.run("bench-decoder", "--model", tiny.toString(), "--compute", "fp8",
        "--output", out.toString());
    assertThat(badCompute.exitCode()).isEqualTo(1);
    assertThat(badCompute.err().strip()).isEqualTo("error: --compute 'fp8' is not one of float32, bf16, as-stored");

    Path missing = tmp.resolve("no-such-model");
    CliRunner badModel = CliRunner.run("bench-decoder", "--model", missing.toString(), "--output", out.toString());
    assertThat(badModel.exitCode()).isEqualTo(1);
    assertThat(badModel.err().strip()).startsWith("error: " + missing).contains("not a folder").doesNotContain("\n");

    CliRunner encoder = CliRunner.run("bench-decoder", "--model", CliRunner.FIXTURES.resolve("bert-tiny-mean").toString());
    assertThat(encoder.exitCode()).isEqualTo(1);
    assertThat(encoder.err().strip()).contains("is not a causal LM").doesNotContain("\n");

    CliRunner shortContext = CliRunner.run("bench-decoder", "--model", tiny.toString(), "--output", out.toString());
    assertThat(shortContext.exitCode()).isEqualTo(1);
    assertThat(shortContext.err().lines().filter(l -> l.startsWith("error:")).toList()).containsExactly(
        "error: " + tiny + ": the benchmark needs a context of 512 tokens, the model has 64 (max_position_embeddings)");

    CliRunner badOnly = CliRunner.run("bench-decoder", "--model", tiny.toString(), "--only", "speed");
    assertThat(badOnly.err().strip()).isEqualTo("error: --only 'speed' is not one of all, phases, memory");
    assertThat(out).doesNotExist();
  }
}
