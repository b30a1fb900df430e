package org.promptrecovery4j.models.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.promptrecovery4j.models.Models;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;
import org.promptrecovery4j.models.nn.OneDnn;
import org.promptrecovery4j.models.nn.PackedLinearOp;

/** The oneDNN 3.3 packed products ({@link OneDnn}) on a whole decoder: bf16 against ND4J's bf16 mmul, float32 against plain weights. */
class PackedBf16DecoderTest {

  /**
   * A bf16-compute decoder with the packed path against the same decoder on ND4J's bf16 mmul (the property off): the
   * same roundings, so logits agree to far below one bf16 step of the products, and both are used (the op is in
   * the graph only with the path on).
   */
  @Test
  void decoderLogitsEqualNd4jsBf16Path() throws Exception {
    Assumptions.assumeTrue(OneDnn.available(), "oneDNN 3.3 bf16 path not usable here: " + OneDnn.unusableReason());
    String fixture = "tiny-mistral-gqa2";
    Map<String, Object> in = DecoderFixtures.inputs(fixture);
    INDArray ids = (INDArray) in.get("input_ids");
    INDArray mask = (INDArray) in.get("attention_mask");
    INDArray fast;
    INDArray plain;
    try (CausalLM model = Models.loadCausalLM(DecoderFixtures.dir(fixture), DecoderOptions.defaults().withStorage(WeightStorage.BF16))) {
      assertThat(packedOps(model.graph())).isEqualTo(2 * 5 + 2); // per layer qkv, o, gate, up, down; lm_head for logits and last_logits
      fast = (INDArray) model.forward(ids, mask).get("logits");
    }
    System.setProperty(OneDnn.PROPERTY, "false");
    try (CausalLM model = Models.loadCausalLM(DecoderFixtures.dir(fixture), DecoderOptions.defaults().withStorage(WeightStorage.BF16))) {
      assertThat(packedOps(model.graph())).isZero();
      plain = (INDArray) model.forward(ids, mask).get("logits");
    } finally {
      System.clearProperty(OneDnn.PROPERTY);
    }
    double diff = org.promptrecovery4j.models.Fixtures.maxAbsDiff(fast, plain, mask);
    double scale = Transforms.abs(plain, true).maxNumber().doubleValue();
    System.out.printf("%s bf16 logits, oneDNN 3.3 packed vs ND4J mmul: max |diff| %.5f (logits up to %.2f)%n", fixture, diff, scale);
    assertThat(diff).isLessThanOrEqualTo(scale / 256);
  }

  /**
   * float32 weights packed for oneDNN 3.3 (inference graphs, {@link OneDnn#packsFloat32()}) against the same decoder
   * with its weights plain ({@code -Dpr4j.onednn3.float32=false}): float32 products that differ only in the order
   * of their sums, so logits agree within float32 rounding; a cached decode continues the same way.
   */
  @Test
  void float32DecoderLogitsEqualTheUnpackedGraph() throws Exception {
    Assumptions.assumeTrue(OneDnn.loaded(), "oneDNN 3.3 not usable here: " + OneDnn.unusableReason());
    String fixture = "tiny-phi";
    Map<String, Object> in = DecoderFixtures.inputs(fixture);
    INDArray ids = (INDArray) in.get("input_ids");
    INDArray mask = (INDArray) in.get("attention_mask");
    INDArray fast;
    INDArray plain;
    try (CausalLM model = Models.loadCausalLM(DecoderFixtures.dir(fixture), DecoderOptions.defaults())) {
      assertThat(packedOps(model.graph())).isEqualTo(model.dims().numLayers() * 4L + 2);
      fast = (INDArray) model.forward(ids, mask).get("logits");
    }
    System.setProperty(OneDnn.PROPERTY + ".float32", "false");
    try (CausalLM model = Models.loadCausalLM(DecoderFixtures.dir(fixture), DecoderOptions.defaults())) {
      assertThat(packedOps(model.graph())).isZero();
      plain = (INDArray) model.forward(ids, mask).get("logits");
    } finally {
      System.clearProperty(OneDnn.PROPERTY + ".float32");
    }
    double diff = org.promptrecovery4j.models.Fixtures.maxAbsDiff(fast, plain, mask);
    double scale = Transforms.abs(plain, true).maxNumber().doubleValue();
    System.out.printf("%s float32 logits, oneDNN 3.3 packed vs plain: max |diff| %.2e (logits up to %.2f)%n", fixture, diff, scale);
    assertThat(diff).isLessThanOrEqualTo(1e-5 * Math.max(1, scale));
  }

  /** Training graphs keep every float32 weight plain (their products must be differentiable). */
  @Test
  void trainableGraphsPackNothing() throws Exception {
    Assumptions.assumeTrue(OneDnn.loaded(), "oneDNN 3.3 not usable here: " + OneDnn.unusableReason());
    try (CausalLM model = Models.loadCausalLM(DecoderFixtures.dir("tiny-phi"),
        DecoderOptions.defaults().withTrainable(n -> n.contains("dense")))) {
      assertThat(packedOps(model.graph())).isZero();
    }
  }

  private static long packedOps(SameDiff sd) {
    return sd.getOps().values().stream().filter(o -> o.getOp() instanceof PackedLinearOp).count();
  }
}
