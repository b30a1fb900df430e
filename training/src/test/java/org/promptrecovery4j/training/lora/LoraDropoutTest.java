package org.promptrecovery4j.training.lora;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.core.TensorJson;
import org.promptrecovery4j.models.generation.CausalLM;
import org.promptrecovery4j.models.generation.DecoderOptions;
import org.promptrecovery4j.models.lora.LoraAdapter;
import org.promptrecovery4j.models.lora.LoraConfig;
import org.promptrecovery4j.training.optim.AdamW;

/**
 * LoRA dropout in training ({@code lora_B(lora_A(dropout(x)))}, PEFT's training mode): the masks have dropout's
 * law, are a function of the seed, do nothing in evaluation, and the gradient through them is the true gradient of
 * the loss with those masks (central finite differences).
 */
class LoraDropoutTest {

  private static final Path FIXTURE = LoraTrainingTest.fixtures().resolve("tiny-mistral-gqa2");
  private static final double P = 0.3;

  private static LoraAdapter adapter(double p) throws Exception {
    // PEFT's initial adapter of the fixture (B = 0 there: give B values so every gradient is non-zero)
    LoraAdapter a = LoraAdapter.load(LoraTrainingTest.fixtures().resolve("lora-train/tiny-mistral-gqa2/initial"));
    LoraConfig c = a.config().withDropout(p);
    org.promptrecovery4j.training.TensorMap tensors = new org.promptrecovery4j.training.TensorMap();
    Nd4j.getRandom().setSeed(5);
    for (LoraAdapter.Module m : a.modules().values()) {
      tensors.put("base_model.model." + m.name() + ".lora_A.weight", m.a());
      tensors.put("base_model.model." + m.name() + ".lora_B.weight", Nd4j.rand(m.b().dataType(), m.b().shape()).subi(0.5));
    }
    return LoraAdapter.fromTensors(Path.of("(test)"), c, tensors).trainable();
  }

  @Test
  void masksHaveDropoutsLawAndFollowTheSeed() throws Exception {
    LoraAdapter a = adapter(P);
    try (CausalLM lm = a.loadOnto(FIXTURE, DecoderOptions.defaults())) {
      Map<String, INDArray> m1 = a.dropoutFeed(500, 7);
      Map<String, INDArray> m2 = a.dropoutFeed(500, 7);
      Map<String, INDArray> m3 = a.dropoutFeed(500, 8);
      assertThat(m1).hasSize(a.modules().size());
      List<INDArray> masks = List.copyOf(m1.values());
      for (String k : m1.keySet()) {
        INDArray m = m1.get(k);
        assertThat(m.shape()).containsExactly(500, 32);
        assertThat(m2.get(k)).isEqualTo(m);
        assertThat(m3.get(k)).isNotEqualTo(m);
        double zeros = m.eq(0).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).meanNumber().doubleValue();
        assertThat(zeros).isBetween(P - 0.02, P + 0.02); // 16,000 draws: 4.5 standard deviations
        assertThat(m.maxNumber().doubleValue()).isCloseTo(1 / (1 - P), org.assertj.core.data.Offset.offset(1e-6));
        assertThat(m.neq(0).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).mul(1 / (1 - P)).equalsWithEps(m, 1e-6)).isTrue();
      }
      assertThat(masks.get(0)).isNotEqualTo(masks.get(1)); // each module its own mask, as PEFT's per-module dropout
    }
  }

  @Test
  void evaluationIgnoresDropoutAndTrainingGradientsAreTheLossesGradients() throws Exception {
    Map<String, Object> in = TensorJson.read(FIXTURE.resolve("inputs.json"));
    INDArray ids = (INDArray) in.get("input_ids");
    INDArray mask = (INDArray) in.get("attention_mask");
    JsonNode e = new ObjectMapper().readTree(LoraTrainingTest.fixtures().resolve("lora-train/tiny-mistral-gqa2/expected.json").toFile());
    int[][] labels = LoraTrainingTest.labels(e.get("labels"));
    LoraAdapter plain = adapter(0);
    LoraAdapter dropped = adapter(P);
    try (CausalLM lmPlain = plain.loadOnto(FIXTURE, DecoderOptions.defaults());
        CausalLM lmDrop = dropped.loadOnto(FIXTURE, DecoderOptions.defaults())) {
      LoraTraining tp = new LoraTraining(lmPlain, plain, new AdamW.Settings(1e-3, 0.9, 0.999, 1e-8, 0), 0);
      LoraTraining td = new LoraTraining(lmDrop, dropped, new AdamW.Settings(1e-3, 0.9, 0.999, 1e-8, 0), 0);
      double evalPlain = tp.loss(ids, mask, labels);
      assertThat(td.loss(ids, mask, labels)).isEqualTo(evalPlain); // ones: x · 1 is x, bit for bit

      CausalLmLoss.Pass g1 = td.forwardBackward(ids, mask, labels, 42);
      CausalLmLoss.Pass g2 = td.forwardBackward(ids, mask, labels, 42);
      CausalLmLoss.Pass g0 = tp.forwardBackward(ids, mask, labels, 42);
      assertThat(g2.loss()).isEqualTo(g1.loss());
      assertThat(g1.loss()).isNotCloseTo(g0.loss(), org.assertj.core.data.Offset.offset(1e-4)); // dropout acts

      // central differences of the training-mode loss (masks of seed 42) in the largest gradient entries
      CausalLmLoss loss = new CausalLmLoss(lmDrop);
      int checked = 0;
      for (String name : List.of(dropped.parameterNames().get(0), dropped.parameterNames().get(1),
          dropped.parameterNames().get(dropped.parameterNames().size() - 1))) {
        INDArray g = g1.gradients().get(name);
        long at = Nd4j.argMax(org.nd4j.linalg.ops.transforms.Transforms.abs(g.reshape(-1))).getLong(0);
        INDArray w = lmDrop.graph().getVariable(name).getArr().reshape(-1);
        float orig = w.getFloat(at);
        double h = 1e-2;
        w.putScalar(at, orig + h);
        double up = loss.loss(ids, mask, labels, dropped.dropoutFeed(ids.length(), 42));
        w.putScalar(at, orig - h);
        double down = loss.loss(ids, mask, labels, dropped.dropoutFeed(ids.length(), 42));
        w.putScalar(at, orig);
        double numeric = (up - down) / (2 * h);
        double analytic = g.reshape(-1).getDouble(at);
        assertThat(numeric).as(name + " at " + at).isCloseTo(analytic, org.assertj.core.data.Offset.offset(
            0.02 * Math.abs(analytic) + 1e-4));
        checked++;
      }
      assertThat(checked).isEqualTo(3);
    }
  }
}
