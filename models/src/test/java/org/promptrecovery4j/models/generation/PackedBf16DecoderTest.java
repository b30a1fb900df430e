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
import org.promptrecovery4j.models.nn.PackedGatedMlpOp;
import org.promptrecovery4j.models.nn.PackedLinearOp;

/** The oneDNN 3.3 packed products ({@link OneDnn}) on a whole decoder: bf16 against ND4J's bf16 mmul, float32 against plain weights. */
class PackedBf16DecoderTest {

  /**
   * A bf16-compute decoder with the packed path against the same decoder on ND4J's bf16 mmul (the property off): the
   * same roundings with the gated MLP as separate ops ({@code -Dpr4j.onednn3.fusedMlp=false}), so logits agree to
   * far below one bf16 step of the products, and both are used (the op is in the graph only with the path on).
   */
  @Test
  void decoderLogitsEqualNd4jsBf16Path() throws Exception {
    Assumptions.assumeTrue(OneDnn.available(), "oneDNN 3.3 bf16 path not usable here: " + OneDnn.unusableReason());
    // per layer qkv, o, gate, up, down; lm_head for logits and last_logits
    OnOff r;
    System.setProperty(OneDnn.PROPERTY + ".fusedMlp", "false");
    try {
      r = logitsOnAndOff("tiny-mistral-gqa2", DecoderOptions.defaults().withStorage(WeightStorage.BF16),
          OneDnn.PROPERTY, m -> 2 * 5 + 2);
    } finally {
      System.clearProperty(OneDnn.PROPERTY + ".fusedMlp");
    }
    double scale = Transforms.abs(r.off(), true).maxNumber().doubleValue();
    System.out.printf("tiny-mistral-gqa2 bf16 logits, oneDNN 3.3 packed vs ND4J mmul: max |diff| %.5f (logits up to %.2f)%n", r.maxDiff(), scale);
    assertThat(r.maxDiff()).isLessThanOrEqualTo(scale / 256);
  }

  /**
   * float32 weights packed for oneDNN 3.3 (inference graphs, {@link OneDnn#packsFloat32()}) against the same decoder
   * with its weights plain ({@code -Dpr4j.onednn3.float32=false}): float32 products that differ only in the order
   * of their sums, so logits agree within float32 rounding.
   */
  @Test
  void float32DecoderLogitsEqualTheUnpackedGraph() throws Exception {
    Assumptions.assumeTrue(OneDnn.loaded(), "oneDNN 3.3 not usable here: " + OneDnn.unusableReason());
    // per layer qkv, dense, fc1, fc2; lm_head twice
    OnOff r = logitsOnAndOff("tiny-phi", DecoderOptions.defaults(), OneDnn.PROPERTY + ".float32",
        m -> m.dims().numLayers() * 4L + 2);
    double scale = Transforms.abs(r.off(), true).maxNumber().doubleValue();
    System.out.printf("tiny-phi float32 logits, oneDNN 3.3 packed vs plain: max |diff| %.2e (logits up to %.2f)%n", r.maxDiff(), scale);
    assertThat(r.maxDiff()).isLessThanOrEqualTo(1e-5 * Math.max(1, scale));
  }

  /**
   * Gated MLPs with packed weights are one op each ({@link PackedGatedMlpOp}); float32: the same logits as with the
   * MLP as separate ops ({@code -Dpr4j.onednn3.fusedMlp=false}) within float32 rounding (bf16 rounds differently, pinned
   * by {@code Bf16ComputeTest}'s emulation).
   */
  @Test
  void gatedMlpsAreOneOpEach() throws Exception {
    Assumptions.assumeTrue(OneDnn.loaded(), "oneDNN 3.3 not usable here: " + OneDnn.unusableReason());
    Map<String, Object> in = DecoderFixtures.inputs("tiny-mistral-gqa2");
    INDArray ids = (INDArray) in.get("input_ids");
    INDArray mask = (INDArray) in.get("attention_mask");
    INDArray fused;
    try (CausalLM model = Models.loadCausalLM(DecoderFixtures.dir("tiny-mistral-gqa2"), DecoderOptions.defaults())) {
      assertThat(count(model.graph(), PackedGatedMlpOp.class)).isEqualTo(model.dims().numLayers());
      fused = (INDArray) model.forward(ids, mask).get("logits");
    }
    System.setProperty(OneDnn.PROPERTY + ".fusedMlp", "false");
    try (CausalLM model = Models.loadCausalLM(DecoderFixtures.dir("tiny-mistral-gqa2"), DecoderOptions.defaults())) {
      assertThat(count(model.graph(), PackedGatedMlpOp.class)).isZero();
      INDArray separate = (INDArray) model.forward(ids, mask).get("logits");
      double scale = Transforms.abs(separate, true).maxNumber().doubleValue();
      double diff = org.promptrecovery4j.models.Fixtures.maxAbsDiff(fused, separate, mask);
      System.out.printf("tiny-mistral-gqa2 float32 logits, gated MLP as one op vs separate ops: max |diff| %.2e%n", diff);
      assertThat(diff).isLessThanOrEqualTo(1e-5 * Math.max(1, scale));
    } finally {
      System.clearProperty(OneDnn.PROPERTY + ".fusedMlp");
    }
  }

  /** Logits with the packed path on and off, and their largest difference over the mask's positions. */
  private record OnOff(INDArray on, INDArray off, double maxDiff) {}

  /**
   * The fixture's logits from a decoder loaded with {@code options} (its packed products counted by {@code packed}),
   * then with {@code property} set to false (none packed).
   */
  private static OnOff logitsOnAndOff(String fixture, DecoderOptions options, String property,
      java.util.function.ToLongFunction<CausalLM> packed) throws Exception {
    Map<String, Object> in = DecoderFixtures.inputs(fixture);
    INDArray ids = (INDArray) in.get("input_ids");
    INDArray mask = (INDArray) in.get("attention_mask");
    INDArray on;
    INDArray off;
    try (CausalLM model = Models.loadCausalLM(DecoderFixtures.dir(fixture), options)) {
      assertThat(packedOps(model.graph())).isEqualTo(packed.applyAsLong(model));
      on = (INDArray) model.forward(ids, mask).get("logits");
    }
    System.setProperty(property, "false");
    try (CausalLM model = Models.loadCausalLM(DecoderFixtures.dir(fixture), options)) {
      assertThat(packedOps(model.graph())).isZero();
      off = (INDArray) model.forward(ids, mask).get("logits");
    } finally {
      System.clearProperty(property);
    }
    return new OnOff(on, off, org.promptrecovery4j.models.Fixtures.maxAbsDiff(on, off, mask));
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
    return count(sd, PackedLinearOp.class);
  }

  private static long count(SameDiff sd, Class<?> op) {
    return sd.getOps().values().stream().filter(o -> op.isInstance(o.getOp())).count();
  }
}
