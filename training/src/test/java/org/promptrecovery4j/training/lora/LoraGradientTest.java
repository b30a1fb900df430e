package org.promptrecovery4j.training.lora;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.core.TensorJson;
import org.promptrecovery4j.models.generation.CausalLM;
import org.promptrecovery4j.models.generation.DecoderOptions;
import org.promptrecovery4j.models.lora.LoraAdapter;

/**
 * One training pass of a LoRA adapter against PEFT (fixtures/lora, tools/reference/lora_fixtures.py): HF's
 * causal-LM loss on labelled tokens and the gradient of every lora_A / lora_B, through SameDiff's autodiff over
 * the whole decoder (base weights frozen), on tiny phi, Mistral and Gemma with padded rows.
 */
class LoraGradientTest {

  static Path fixtures() {
    return Path.of(System.getProperty("pr4j.fixtures", "../fixtures"));
  }

  /** The values of a tensor of the fixture's tensor JSON, row-major. */
  static float[] values(JsonNode t) {
    return TensorJson.tensor(t, "fixtures/lora expected.json").castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT)
        .dup('c').data().asFloat();
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny-phi", "tiny-mistral-gqa2", "tiny-gemma-bf16"})
  void lossAndGradientsMatchPeft(String fixture) throws Exception {
    JsonNode train = new ObjectMapper().readTree(fixtures().resolve("lora").resolve(fixture).resolve("expected.json").toFile())
        .get("train");
    Map<String, Object> in = TensorJson.read(fixtures().resolve(fixture).resolve("inputs.json"));
    INDArray ids = (INDArray) in.get("input_ids");
    JsonNode lab = train.get("labels").get("data");
    int[][] labels = new int[lab.size()][];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = new int[lab.get(i).size()];
      for (int t = 0; t < labels[i].length; t++) {
        labels[i][t] = lab.get(i).get(t).asInt();
      }
    }
    LoraAdapter lora = LoraAdapter.load(fixtures().resolve("lora").resolve(fixture)).trainable();
    try (CausalLM lm = lora.loadOnto(fixtures().resolve(fixture), DecoderOptions.defaults())) {
      CausalLmLoss loss = new CausalLmLoss(lm);
      CausalLmLoss.Pass pass = loss.lossAndGradients(ids, (INDArray) in.get("attention_mask"), labels, lora.parameterNames());
      double wantLoss = train.get("loss").asDouble();
      assertThat(pass.loss()).isCloseTo(wantLoss, org.assertj.core.data.Offset.offset(1e-4 * Math.abs(wantLoss)));
      // tolerance relative to the largest gradient of the adapter (the output scale): a tensor whose own
      // gradients are tiny carries float32 noise of the size of the large ones' (Mistral's layer-0 k_proj A:
      // max |grad| 1.1e-4; PEFT float32 against PEFT float64 differ there by 4.3e-5, as we differ from PEFT)
      double scale = 0;
      for (String name : lora.parameterNames()) {
        for (float w : values(train.get("grads").get(name))) {
          scale = Math.max(scale, Math.abs(w));
        }
      }
      double worst = 0;
      for (String name : lora.parameterNames()) {
        float[] want = values(train.get("grads").get(name));
        float[] got = pass.gradients().get(name).dup('c').data().asFloat();
        assertThat(got).as(name).hasSize(want.length);
        for (int i = 0; i < want.length; i++) {
          double rel = Math.abs(got[i] - want[i]) / scale;
          worst = Math.max(worst, rel);
          assertThat(rel).as("%s[%d]: %s vs PEFT %s", name, i, got[i], want[i]).isLessThan(1e-4);
        }
      }
      System.out.printf("%s: loss %.6f (PEFT %.6f), gradients max |diff| / max |grad| %.3g over %d tensors%n", fixture,
          pass.loss(), wantLoss, worst, lora.parameterNames().size());
    }
  }
}
