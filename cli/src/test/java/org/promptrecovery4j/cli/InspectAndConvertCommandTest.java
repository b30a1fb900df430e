package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.weights.Checkpoints;
import org.promptrecovery4j.weights.SafetensorsFile;
import org.promptrecovery4j.weights.WeightSource;

class InspectAndConvertCommandTest {

  static final Path MISTRAL = CliRunner.FIXTURES.resolve("tiny-mistral-bf16-sharded");

  @TempDir Path tmp;

  @Test
  void inspectPrintsHuggingFacesParameterCount() throws IOException {
    long expected = new ObjectMapper().readTree(MISTRAL.resolve("expected.json").toFile()).get("num_parameters").asLong();
    CliRunner r = CliRunner.run("inspect", "--model", MISTRAL.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("model_type:  mistral")
        .contains("parameters:  " + expected)
        .contains("dtype:       BF16 (config: bfloat16)")
        .contains("tensors:     21")
        .containsPattern("model\\.layers\\.1\\.self_attn\\.k_proj\\.weight +BF16 +\\[8, 16\\]");
  }

  @Test
  void inspectOfAFolderWithoutConfigIsAClearError() {
    CliRunner r = CliRunner.run("inspect", "--model", tmp.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).startsWith("error: ").contains(tmp.toString()).contains("no config.json");
  }

  @Test
  void inspectRefusesAnUnsupportedModelType() throws IOException {
    Files.writeString(tmp.resolve("config.json"), "{\"model_type\": \"gpt_neox\"}");
    CliRunner r = CliRunner.run("inspect", "--model", tmp.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("unsupported model_type 'gpt_neox'").contains("bert, deberta-v2, t5, phi, mistral, llama, gemma");
  }

  @Test
  void convertMergesShardsIntoOneFileWithIdenticalTensors() throws IOException {
    Path out = tmp.resolve("model.safetensors");
    CliRunner r = CliRunner.run("convert", "--input", MISTRAL.resolve("model.safetensors.index.json").toString(),
        "--output", out.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("21 tensors").contains("6736 parameters");
    try (WeightSource in = Checkpoints.open(MISTRAL); SafetensorsFile conv = SafetensorsFile.open(out)) {
      assertThat(conv.names()).containsExactlyInAnyOrderElementsOf(in.names());
      for (String n : in.names()) {
        assertThat(conv.info(n).dtype()).isEqualTo(in.info(n).dtype());
        assertThat(conv.info(n).shape()).isEqualTo(in.info(n).shape());
        assertThat(conv.bytes(n)).as(n).isEqualTo(in.bytes(n));
      }
    }
  }

  @Test
  void convertOfAPytorchBinGivesTheSameTensorsAsTheBin() throws IOException {
    Path bin = CliRunner.FIXTURES.resolve("torch-bin/tiny-deberta/pytorch_model.bin");
    Path out = tmp.resolve("model.safetensors");
    CliRunner r = CliRunner.run("convert", "--input", bin.toString(), "--output", out.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    try (WeightSource in = Checkpoints.open(bin); SafetensorsFile conv = SafetensorsFile.open(out)) {
      assertThat(in.names()).isNotEmpty();
      assertThat(conv.names()).containsExactlyElementsOf(in.names());
      for (String n : in.names()) {
        assertThat(conv.info(n).dtype()).isEqualTo(in.info(n).dtype());
        assertThat(conv.info(n).shape()).isEqualTo(in.info(n).shape());
        assertThat(conv.readFloats(n)).as(n).containsExactly(in.readFloats(n));
      }
    }
    // and the folder inspects with HuggingFace's parameter count from either file
    CliRunner i = CliRunner.run("inspect", "--model", bin.getParent().toString(), "--no-tensors");
    assertThat(i.exitCode()).as(i.err()).isZero();
    assertThat(i.out()).contains("model_type:  deberta-v2");
  }

  @Test
  void convertOfAMaliciousPickleIsRefusedAndWritesNothing() {
    Path evil = CliRunner.FIXTURES.resolve("torch-bin/malicious-os-system.bin");
    Path out = tmp.resolve("evil.safetensors");
    CliRunner r = CliRunner.run("convert", "--input", evil.toString(), "--output", out.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("malicious-os-system.bin").contains("os").contains("system");
    assertThat(out).doesNotExist();
  }

  @Test
  void convertOfAMissingInputLeavesNoOutput() {
    Path out = tmp.resolve("x.safetensors");
    CliRunner r = CliRunner.run("convert", "--input", tmp.resolve("missing.bin").toString(), "--output", out.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).contains("missing.bin").contains("no such file");
    assertThat(out).doesNotExist();
  }

  @Test
  void inspectAndConvertAcceptAnOnnxModel() throws IOException {
    Path onnx = CliRunner.FIXTURES.resolve("onnx/tiny-linear");
    Files.copy(MISTRAL.resolve("config.json"), tmp.resolve("config.json"));
    Files.copy(onnx.resolve("model.onnx"), tmp.resolve("model.onnx"));
    CliRunner i = CliRunner.run("inspect", "--model", tmp.toString());
    assertThat(i.exitCode()).as(i.err()).isZero();
    assertThat(i.out()).contains("weights:     model.onnx").contains("tensors:     5")
        .containsPattern("encoder\\.layer\\.0\\.attention\\.self\\.query\\.weight +F32 +\\[3, 4\\]");
    Path out = tmp.resolve("out.safetensors");
    CliRunner r = CliRunner.run("convert", "--input", onnx.resolve("model.onnx").toString(), "--output", out.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("5 tensors");
    try (SafetensorsFile conv = SafetensorsFile.open(out);
        SafetensorsFile expected = SafetensorsFile.open(onnx.resolve("expected.safetensors"))) {
      assertThat(conv.names()).containsExactlyElementsOf(expected.names());
      for (String n : expected.names()) {
        assertThat(conv.info(n).shape()).as(n).isEqualTo(expected.info(n).shape());
        assertThat(conv.bytes(n)).as(n).isEqualTo(expected.bytes(n));
      }
    }
  }

  @Test
  void convertOfABadOnnxFileIsANamedErrorAndWritesNothing() throws IOException {
    Path bad = tmp.resolve("bad.onnx");
    Files.writeString(bad, "not a protobuf at all");
    Path out = tmp.resolve("x.safetensors");
    CliRunner r = CliRunner.run("convert", "--input", bad.toString(), "--output", out.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).startsWith("error: ").contains("bad.onnx");
    assertThat(out).doesNotExist();
  }
}
