package org.promptrecovery4j.models.generation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.Models;
import org.promptrecovery4j.models.generation.DecoderFixtures.Greedy;
import org.promptrecovery4j.weights.llama2c.Llama2cCheckpoint;

/** llama2.c checkpoints through MistralForCausalLM: a tiny version-1 file and the real stories260K. */
class Llama2cTest {

  @Test
  void version1CheckpointLogitsAndGreedyIdsMatchHuggingFace() throws Exception {
    Path file = DecoderFixtures.dir("tiny-llama2c-v1").resolve("model.bin");
    JsonNode expected = DecoderFixtures.expected("tiny-llama2c-v1");
    assertThat(Llama2cCheckpoint.looksLike(file)).isTrue();
    try (CausalLM model = Models.loadCausalLM(file, DecoderOptions.defaults())) {
      int[] ids = DecoderFixtures.ints(expected.get("input_ids"));
      INDArray in = Nd4j.createFromArray(ids).reshape(1, ids.length);
      INDArray logits = (INDArray) model.forward(in, null).get("logits");
      INDArray want = DecoderFixtures.tensor(expected.get("logits"));
      double diff = logits.reshape(want.shape()).sub(want).amaxNumber().doubleValue();
      System.out.printf("tiny-llama2c-v1 max |diff| = %.3g%n", diff);
      assertThat(diff).isLessThan(2e-4);
      Greedy g = DecoderFixtures.greedy(expected).get(0);
      assertThat(new Generator(model).generate(g.prompt(), GenerationConfig.greedy(g.generated().length), null)
          .generatedIds()).containsExactly(g.generated());
    }
  }

  @Test
  void stories260kGreedyIdsEqualPyTorch() throws Exception {
    Path file = Path.of(System.getProperty("pr4j.shared", "../../shared"))
        .resolve("conformance/models/stories260K/stories260K.bin");
    Assumptions.assumeTrue(Files.isRegularFile(file), "skipped: " + file + " absent (../shared reference data)");
    assertThat(Llama2cCheckpoint.looksLike(file)).isTrue();
    List<Greedy> cases = DecoderFixtures.greedy(DecoderFixtures.expected("stories260K-greedy"));
    try (CausalLM model = Models.loadCausalLM(file, DecoderOptions.defaults())) {
      assertThat(model.dims().numKvHeads()).isEqualTo(4);
      Generator gen = new Generator(model);
      int maxNew = cases.get(0).generated().length;
      for (Greedy c : cases) {
        assertThat(gen.generate(c.prompt(), GenerationConfig.greedy(maxNew), null).generatedIds())
            .as("prompt %s", java.util.Arrays.toString(c.prompt())).containsExactly(c.generated());
      }
      List<Generator.Result> batched = gen.generate(cases.stream().map(Greedy::prompt).toList(),
          GenerationConfig.greedy(maxNew), null);
      for (int i = 0; i < cases.size(); i++) {
        assertThat(batched.get(i).generatedIds()).containsExactly(cases.get(i).generated());
      }
    }
  }
}
