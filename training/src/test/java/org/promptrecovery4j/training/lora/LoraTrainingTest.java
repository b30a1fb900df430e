package org.promptrecovery4j.training.lora;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.TensorJson;
import org.promptrecovery4j.models.Models;
import org.promptrecovery4j.models.generation.CausalLM;
import org.promptrecovery4j.models.generation.DecoderOptions;
import org.promptrecovery4j.models.lora.LoraAdapter;
import org.promptrecovery4j.models.lora.LoraConfig;
import org.promptrecovery4j.training.optim.AdamW;

/**
 * LoRA training against PEFT + torch.optim.AdamW step for step (fixtures/lora-train, tools/reference/lora_fixtures.py):
 * from PEFT's own initial adapter (A kaiming-uniform, B zero), 5 AdamW steps on one batch of the tiny phi, Mistral
 * and Gemma fixtures; the loss before each step and every A and B after the last within 1e-4 relative.
 */
class LoraTrainingTest {

  static Path fixtures() {
    return Path.of(System.getProperty("pr4j.fixtures", "../fixtures"));
  }

  static int[][] labels(JsonNode t) {
    JsonNode d = t.get("data");
    int[][] out = new int[d.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = new int[d.get(i).size()];
      for (int k = 0; k < out[i].length; k++) {
        out[i][k] = d.get(i).get(k).asInt();
      }
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny-phi", "tiny-mistral-gqa2", "tiny-gemma-bf16"})
  void fiveAdamWStepsMatchPeft(String fixture) throws Exception {
    Path dir = fixtures().resolve("lora-train").resolve(fixture);
    JsonNode e = new ObjectMapper().readTree(dir.resolve("expected.json").toFile());
    JsonNode s = e.get("settings");
    Map<String, Object> in = TensorJson.read(fixtures().resolve(fixture).resolve("inputs.json"));
    INDArray ids = (INDArray) in.get("input_ids");
    INDArray mask = (INDArray) in.get("attention_mask");
    int[][] labels = labels(e.get("labels"));
    LoraAdapter lora = LoraAdapter.load(dir.resolve("initial")).trainable();
    try (CausalLM lm = lora.loadOnto(fixtures().resolve(fixture), DecoderOptions.defaults())) {
      LoraTraining t = new LoraTraining(lm, lora, new AdamW.Settings(s.get("lr").asDouble(), s.get("beta1").asDouble(),
          s.get("beta2").asDouble(), s.get("eps").asDouble(), s.get("weight_decay").asDouble()), 0);
      for (int step = 0; step < s.get("steps").asInt(); step++) {
        double loss = t.step(ids, mask, labels);
        double want = e.get("losses").get(step).asDouble();
        assertThat(loss).as("loss before step %d", step + 1).isCloseTo(want, org.assertj.core.data.Offset.offset(1e-4 * want));
      }
      double worst = 0;
      for (Map.Entry<String, INDArray> p : t.parameters().entrySet()) {
        float[] want = LoraGradientTest.values(e.get("final").get(p.getKey()));
        float[] got = p.getValue().dup('c').data().asFloat();
        double scale = 0;
        for (float w : want) {
          scale = Math.max(scale, Math.abs(w));
        }
        for (int i = 0; i < want.length; i++) {
          double rel = Math.abs(got[i] - want[i]) / scale;
          worst = Math.max(worst, rel);
          assertThat(rel).as("%s[%d]: %s vs PEFT %s", p.getKey(), i, got[i], want[i]).isLessThan(1e-4);
        }
      }
      System.out.printf("%s: 5 AdamW steps, losses %s, adapter weights max |diff| / max |w| %.3g%n", fixture,
          e.get("losses"), worst);
    }
  }

  /** A new adapter starts as the base model (B = 0), trains, and saves in PEFT's format that loads back the same. */
  @Test
  void aFreshAdapterTrainsAndSavesInPeftFormat(@TempDir Path tmp) throws Exception {
    String fixture = "tiny-mistral-gqa2";
    Map<String, Object> in = TensorJson.read(fixtures().resolve(fixture).resolve("inputs.json"));
    INDArray ids = (INDArray) in.get("input_ids");
    INDArray mask = (INDArray) in.get("attention_mask");
    int[][] labels = labels(new ObjectMapper().readTree(
        fixtures().resolve("lora-train").resolve(fixture).resolve("expected.json").toFile()).get("labels"));
    LoraAdapter fresh = LoraAdapter.fresh(LoraConfig.of(4, 8, List.of("q_proj", "v_proj")), 7);
    double first;
    Path saved = tmp.resolve("adapter");
    try (CausalLM lm = fresh.loadOnto(fixtures().resolve(fixture), DecoderOptions.defaults());
        CausalLM base = Models.loadCausalLM(fixtures().resolve(fixture), DecoderOptions.defaults())) {
      assertThat(fresh.modules().keySet()).containsExactly("model.layers.0.self_attn.q_proj",
          "model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj");
      INDArray a = fresh.modules().get("model.layers.0.self_attn.q_proj").a();
      assertThat(a.shape()).containsExactly(4, 32);
      assertThat(a.amaxNumber().doubleValue()).isGreaterThan(0).isLessThanOrEqualTo(1 / Math.sqrt(32));
      LoraTraining t = new LoraTraining(lm, fresh, new AdamW.Settings(1e-2, 0.9, 0.999, 1e-8, 0.0), 1.0);
      first = t.step(ids, mask, labels);
      double baseLoss = new CausalLmLoss(base).loss(ids, mask, labels);
      assertThat(first).isCloseTo(baseLoss, org.assertj.core.data.Offset.offset(1e-5)); // B = 0: the base model
      double last = first;
      for (int i = 0; i < 20; i++) {
        last = t.step(ids, mask, labels);
      }
      assertThat(last).isLessThan(first - 0.5);
      t.save(saved, "fixtures/" + fixture);
      INDArray want = (INDArray) lm.forward(ids, mask).get("logits");
      LoraAdapter back = LoraAdapter.load(saved);
      assertThat(back.config().targetModules()).containsExactly("q_proj", "v_proj");
      try (CausalLM reloaded = back.loadOnto(fixtures().resolve(fixture), DecoderOptions.defaults())) {
        INDArray got = (INDArray) reloaded.forward(ids, mask).get("logits");
        assertThat(got.sub(want).amaxNumber().doubleValue()).isLessThan(1e-5);
      }
    }
    assertThat(Files.list(saved).map(p -> p.getFileName().toString()).sorted().toList())
        .containsExactly("adapter_config.json", "adapter_model.safetensors");
  }
}
