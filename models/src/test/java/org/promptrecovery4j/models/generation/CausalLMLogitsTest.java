package org.promptrecovery4j.models.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.models.ForwardModel;
import org.promptrecovery4j.models.Models;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;

/** Logits of each decoder against HF on tiny random fixtures, on non-padded positions. */
class CausalLMLogitsTest {

  @ParameterizedTest
  @CsvSource({
    "tiny-mistral-gqa2, FLOAT32",
    "tiny-llama-gqa3-bf16, FLOAT32",
    "tiny-llama-gqa3-bf16, AS_STORED",
    "tiny-phi, FLOAT32",
    "tiny-gemma-bf16, FLOAT32",
    "tiny-gemma-bf16, AS_STORED",
  })
  void logitsMatchHuggingFace(String fixture, WeightStorage storage) throws Exception {
    Map<String, Object> in = DecoderFixtures.inputs(fixture);
    INDArray ids = (INDArray) in.get("input_ids");
    INDArray mask = (INDArray) in.get("attention_mask");
    INDArray expected = DecoderFixtures.tensor(DecoderFixtures.expected(fixture).get("logits"));
    try (CausalLM model = Models.loadCausalLM(DecoderFixtures.dir(fixture), DecoderOptions.defaults().withStorage(storage))) {
      INDArray logits = (INDArray) model.forward(ids, mask).get("logits");
      assertThat(logits.shape()).containsExactly(expected.shape());
      double maxDiff = org.promptrecovery4j.models.Fixtures.maxAbsDiff(logits, expected, mask);
      System.out.printf("%s %s max |diff| = %.3g%n", fixture, storage, maxDiff);
      assertThat(maxDiff).isLessThan(2e-4);
    }
  }

  @org.junit.jupiter.api.Test
  void forwardThroughModelsLoad() throws Exception {
    try (ForwardModel m = Models.load(DecoderFixtures.dir("tiny-phi"))) {
      Map<String, Object> in = DecoderFixtures.inputs("tiny-phi");
      INDArray logits = (INDArray) m.forward((INDArray) in.get("input_ids"), (INDArray) in.get("attention_mask")).get("logits");
      assertThat(logits.shape()).containsExactly(3L, 8L, 100L);
    }
  }

  /** Weights kept as stored get no session array cache (with one, their float copies waited for a GC). */
  @org.junit.jupiter.api.Test
  void noArrayCacheWhenWeightsAreCastPerUse() throws Exception {
    Assumptions.assumeTrue(System.getProperty("pr4j.arrayCacheBytes") == null);
    try (CausalLM kept = Models.loadCausalLM(DecoderFixtures.dir("tiny-llama-gqa3-bf16"),
            DecoderOptions.defaults().withStorage(WeightStorage.AS_STORED));
        CausalLM upcast = Models.loadCausalLM(DecoderFixtures.dir("tiny-llama-gqa3-bf16"), DecoderOptions.defaults())) {
      assertThat(kept.arrayCacheBytes()).isZero();
      assertThat(upcast.arrayCacheBytes()).isEqualTo(CausalLM.ARRAY_CACHE_BYTES);
    }
  }
}
