package org.promptrecovery4j.models.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.Models;
import org.promptrecovery4j.models.nn.LinearAdapter;

/** The hook the LoRA issue builds on: adapters on any linear, trainable weights, one architecture. */
class AdapterHookTest {

  static final String FIXTURE = "tiny-mistral-gqa2";

  static INDArray logits(DecoderOptions options) throws Exception {
    Map<String, Object> in = DecoderFixtures.inputs(FIXTURE);
    try (CausalLM m = Models.loadCausalLM(DecoderFixtures.dir(FIXTURE), options)) {
      return (INDArray) m.forward((INDArray) in.get("input_ids"), (INDArray) in.get("attention_mask")).get("logits");
    }
  }

  @Test
  void adaptersSeeEachPartOfAFusedProjectionAndTrainableWeightsAreVariables() throws Exception {
    INDArray base = logits(DecoderOptions.defaults());
    List<String> seen = new ArrayList<>();
    // a zero update on k_proj (the middle part of the fused q/k/v) and on down_proj changes nothing (beyond float32
    // rounding: with an adapter on down_proj the MLP is no longer one oneDNN op, PackedGatedMlpOp)
    LinearAdapter zero = (layer, x) -> {
      seen.add(layer.name() + " " + layer.inFeatures() + "x" + layer.outFeatures());
      return x.mmul(x.getSameDiff().constant(Nd4j.zeros(DataType.FLOAT, layer.inFeatures(), layer.outFeatures())));
    };
    INDArray same = logits(DecoderOptions.defaults().withAdapters(
        name -> name.endsWith("self_attn.k_proj") || name.endsWith("mlp.down_proj") ? zero : null));
    assertThat(same.sub(base).amaxNumber().doubleValue()).isLessThan(1e-5);
    assertThat(seen).contains("model.layers.0.self_attn.k_proj 32x16", "model.layers.1.mlp.down_proj 48x32");
    // a non-zero update does change the logits
    LinearAdapter ones = (layer, x) -> x.mmul(x.getSameDiff().constant(
        Nd4j.ones(DataType.FLOAT, layer.inFeatures(), layer.outFeatures()).mul(0.05)));
    INDArray changed = logits(DecoderOptions.defaults().withAdapters(name -> name.endsWith("v_proj") ? ones : null));
    assertThat(changed.sub(base).amaxNumber().doubleValue()).isGreaterThan(1e-3);
    // trainable q/k/v: bound unfused as variables, same logits
    DecoderOptions trainable = DecoderOptions.defaults().withTrainable(n -> n.contains("self_attn.q_proj"));
    try (CausalLM m = Models.loadCausalLM(DecoderFixtures.dir(FIXTURE), trainable)) {
      assertThat(m.graph().getVariable("model.layers.0.self_attn.q_proj.weight").getVariableType())
          .isEqualTo(org.nd4j.autodiff.samediff.VariableType.VARIABLE);
    }
    assertThat(logits(trainable).sub(base).amaxNumber().doubleValue()).isLessThan(1e-5);
  }
}
