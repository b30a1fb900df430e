package org.promptrecovery4j.core.numerics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.core.TensorJson;
import org.promptrecovery4j.core.numerics.TensorDiff.Outcome;

class TensorComparisonTest {

  static final Tolerance DEFAULT = Tolerance.DEFAULT;

  @TempDir Path tmp;

  static INDArray t(float[] v, long... shape) {
    return Nd4j.create(v, shape, 'c');
  }

  @Test
  void maxErrorsWorstIndexAndValuesAreExact() {
    INDArray e = t(new float[] {1, -2, 0.5f, 4, 0, 8}, 2, 3);
    INDArray a = t(new float[] {1, -2.5f, 0.5f, 4.25f, 0, 8}, 2, 3);
    TensorDiff d = TensorComparison.compare("x", e, a, DEFAULT, null);
    assertThat(d.outcome()).isEqualTo(Outcome.OUT_OF_TOLERANCE);
    assertThat(d.maxAbsError()).isEqualTo(0.5);
    assertThat(d.maxRelError()).isEqualTo(0.25); // 0.5 / |-2|; 0.25 / 4 = 0.0625 at [1, 0]
    assertThat(d.worstIndex()).containsExactly(0, 1);
    assertThat(d.expectedValue()).isEqualTo(-2.0);
    assertThat(d.actualValue()).isEqualTo(-2.5);
    assertThat(d.elements()).isEqualTo(6);
    assertThat(d.compared()).isEqualTo(6);
    assertThat(d.mismatched()).isEqualTo(2);
    assertThat(d.reason()).isEqualTo("2 of 6 elements beyond atol=1e-4 rtol=0");
    assertThat(d.describe()).isEqualTo("""
        tensor 'x' [2, 3]: 2 of 6 elements beyond atol=1e-4 rtol=0
          worst at [0, 1]: expected -2, actual -2.5, |actual - expected| = 5.000e-01 > allowed 1.000e-04
          max abs error 5.000e-01, max rel error 2.500e-01, 6 of 6 elements compared""");

    // atol 0.3 lets the 0.25 error at [1, 0] through
    assertThat(TensorComparison.compare("x", e, a, Tolerance.of(0.3, 0), null).mismatched()).isEqualTo(1);
    assertThat(TensorComparison.compare("x", e, a, Tolerance.of(0.5, 0), null).passed()).isTrue();
  }

  /** The project's rule: 1e-4 relative to the tensor's scale (T5-like activations near 35). */
  @Test
  void aScaledAtolIsRelativeToTheLargestComparedExpectedValue() {
    INDArray e = t(new float[] {35, -0.5f, 2, 1e6f}, 2, 2);
    INDArray a = t(new float[] {35, -0.5003f, 2, 0}, 2, 2);
    INDArray mask = Nd4j.createFromArray(new long[][] {{1, 1}, {1, 0}}); // [1, 1] = 1e6 is padding
    TensorDiff plain = TensorComparison.compare("x", e, a, Tolerance.of(1e-4, 0), mask);
    assertThat(plain.passed()).isFalse();
    TensorDiff scaled = TensorComparison.compare("x", e, a, Tolerance.scaled(1e-4, 0), mask);
    assertThat(scaled.passed()).isTrue();
    assertThat(scaled.tolerance().atol()).isCloseTo(3.5e-3, org.assertj.core.data.Offset.offset(1e-12)); // 1e-4 × 35
    assertThat(Tolerance.scaled(1e-4, 0)).hasToString("atol=1e-4×scale rtol=0");
    assertThat(Tolerance.scaled(1e-4, 0).forScale(0.2).atol()).isEqualTo(1e-4); // at least 1
    assertThat(TensorComparison.compare("x", e, t(new float[] {35, -0.5f, 2.004f, 0}, 2, 2), Tolerance.scaled(1e-4, 0), mask)
        .passed()).isFalse(); // 4e-3 > 3.5e-3
  }

  @Test
  void withRtolTheWorstElementIsTheOneUsingMostOfItsTolerance() {
    // errors 0.5 (allowed 0.01 * 100 = 1) and 0.1 (allowed 0.01): the second is 10x over, the first within
    INDArray e = t(new float[] {100, 1, 0}, 3);
    INDArray a = t(new float[] {100.5f, 1.1f, 0}, 3);
    TensorDiff d = TensorComparison.compare("x", e, a, Tolerance.of(0, 0.01), null);
    assertThat(d.passed()).isFalse();
    assertThat(d.mismatched()).isEqualTo(1);
    assertThat(d.maxAbsError()).isEqualTo(0.5);
    assertThat(d.maxRelError()).isCloseTo(0.1, org.assertj.core.data.Offset.offset(1e-6)); // (1.1f - 1) / 1
    assertThat(d.worstIndex()).containsExactly(1);
    assertThat(d.actualValue()).isEqualTo((double) 1.1f);
    // rtol 0.2 passes both; the worst is still [1] (half its tolerance used), not the exact zero at [2]
    TensorDiff ok = TensorComparison.compare("x", e, a, Tolerance.of(0, 0.2), null);
    assertThat(ok.passed()).isTrue();
    assertThat(ok.worstIndex()).containsExactly(1);
  }

  @Test
  void relativeErrorWhereExpectedIsZeroIsInfiniteAndAnExactZeroIsZero() {
    TensorDiff d = TensorComparison.compare("x", t(new float[] {0, 0, 2}, 3), t(new float[] {1e-5f, 0, 2}, 3),
        DEFAULT, null);
    assertThat(d.passed()).isTrue(); // 1e-5 <= atol 1e-4
    assertThat(d.maxRelError()).isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(d.maxAbsError()).isEqualTo((double) 1e-5f);
    assertThat(d.worstIndex()).containsExactly(0);
    TensorDiff exact = TensorComparison.compare("x", t(new float[] {0, 3}, 2), t(new float[] {0, 3}, 2),
        Tolerance.of(0, 0), null);
    assertThat(exact.passed()).isTrue();
    assertThat(exact.maxRelError()).isZero();
    assertThat(exact.maxAbsError()).isZero();
  }

  @Test
  void aMaskLeavesOutAPaddedPositionHoldingAHugeError() {
    float[] ev = new float[12];
    float[] av = new float[12];
    for (int i = 0; i < 12; i++) {
      ev[i] = i / 10f;
      av[i] = i / 10f + 1e-5f;
    }
    av[10] = 1e6f; // batch 1, position 2 (padding), feature 0
    INDArray mask = Nd4j.createFromArray(new long[][] {{1, 1, 1}, {1, 1, 0}});
    Map<String, Object> exp = new LinkedHashMap<>();
    Map<String, Object> act = new LinkedHashMap<>();
    exp.put("last_hidden_state", t(ev, 2, 3, 2));
    act.put("last_hidden_state", t(av, 2, 3, 2));
    exp.put("hidden_states", List.of(t(ev, 2, 3, 2)));
    act.put("hidden_states", List.of(t(av, 2, 3, 2)));
    exp.put("pooled", t(ev, 3, 4)); // not [2, 3, ...]: compared whole
    act.put("pooled", t(ev, 3, 4));

    ComparisonReport masked = TensorComparison.compare(exp, act, DEFAULT, mask);
    assertThat(masked.passed()).isTrue();
    TensorDiff d = masked.tensors().get(0);
    assertThat(d.masked()).isTrue();
    assertThat(d.compared()).isEqualTo(10);
    assertThat(d.maxAbsError()).isLessThan(2e-5);
    assertThat(masked.tensors().get(1).name()).isEqualTo("hidden_states[0]");
    assertThat(masked.tensors().get(1).compared()).isEqualTo(10);
    assertThat(masked.tensors().get(2).masked()).isFalse();
    assertThat(masked.tensors().get(2).compared()).isEqualTo(12);
    assertThat(masked.text()).contains("10/12").contains("attention mask [2, 3]: applied to 2 of 3 tensors");

    ComparisonReport whole = TensorComparison.compare(exp, act, DEFAULT, null);
    assertThat(whole.passed()).isFalse();
    TensorDiff w = whole.tensors().get(0);
    assertThat(w.worstIndex()).containsExactly(1, 2, 0);
    assertThat(w.expectedValue()).isEqualTo((double) 1.0f);
    assertThat(w.actualValue()).isEqualTo(1e6);
    assertThat(w.maxAbsError()).isEqualTo(1e6 - 1);
    assertThat(whole.summary()).isEqualTo("first failing tensor: last_hidden_state; 2 of 3 tensors fail atol=1e-4 rtol=0");
  }

  @Test
  void shapeMismatchMissingAndExtraTensorsAreReportedNotThrown() {
    Map<String, Object> exp = new LinkedHashMap<>();
    Map<String, Object> act = new LinkedHashMap<>();
    exp.put("a", Nd4j.zeros(DataType.FLOAT, 2, 3));
    act.put("a", Nd4j.zeros(DataType.FLOAT, 2, 4));
    exp.put("b", Nd4j.zeros(DataType.FLOAT, 2));
    exp.put("c", Nd4j.ones(DataType.FLOAT, 2));
    act.put("c", Nd4j.ones(DataType.FLOAT, 2));
    act.put("extra", Nd4j.ones(DataType.FLOAT, 2));
    ComparisonReport r = TensorComparison.compare(exp, act, DEFAULT, null);
    assertThat(r.tensors()).extracting(TensorDiff::name).containsExactly("a", "b", "c");
    assertThat(r.tensors()).extracting(TensorDiff::outcome)
        .containsExactly(Outcome.SHAPE_MISMATCH, Outcome.MISSING, Outcome.PASS);
    assertThat(r.tensors().get(0).reason()).isEqualTo("shape [2, 4] in actual, [2, 3] expected");
    assertThat(r.tensors().get(0).worstIndex()).isNull();
    assertThat(r.tensors().get(1).reason()).isEqualTo("not in actual");
    assertThat(r.notCompared()).containsExactly("extra");
    assertThat(r.failures()).hasSize(2);
    assertThat(r.firstFailure()).get().extracting(TensorDiff::name).isEqualTo("a");
    assertThat(r.text()).contains("not compared (only in actual): extra")
        .containsPattern("a +\\[2, 3\\] +- +- +- +- +- +- +FAIL  shape \\[2, 4\\] in actual, \\[2, 3\\] expected");

    // only extra tensors in actual: nothing fails
    assertThat(TensorComparison.compare(Map.of("c", Nd4j.ones(DataType.FLOAT, 2)), act, DEFAULT, null).passed())
        .isTrue();
  }

  @Test
  void nanOrInfinityAgainstAFiniteValueFailsAndTheSameNonFiniteValueMatches() {
    INDArray e = t(new float[] {1, 2, Float.NaN, Float.POSITIVE_INFINITY, 5}, 5);
    INDArray a = t(new float[] {1, Float.NaN, Float.NaN, Float.POSITIVE_INFINITY, 5.5f}, 5);
    TensorDiff d = TensorComparison.compare("x", e, a, DEFAULT, null);
    assertThat(d.outcome()).isEqualTo(Outcome.NON_FINITE);
    assertThat(d.worstIndex()).containsExactly(1);
    assertThat(d.expectedValue()).isEqualTo(2.0);
    assertThat(d.actualValue()).isNaN();
    assertThat(d.maxAbsError()).isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(d.mismatched()).isEqualTo(2); // [1] and the 0.5 error at [4]; NaN/NaN and inf/inf match
    assertThat(d.reason()).isEqualTo("NaN in actual at [1] where expected is 2; 2 of 5 elements beyond atol=1e-4 rtol=0");

    TensorDiff inf = TensorComparison.compare("y", t(new float[] {Float.NEGATIVE_INFINITY, 1}, 1, 2),
        t(new float[] {-3e38f, 1}, 1, 2), DEFAULT, null);
    assertThat(inf.outcome()).isEqualTo(Outcome.NON_FINITE);
    assertThat(inf.reason()).isEqualTo("-Infinity in expected at [0, 0] where actual is -3e38");

    TensorDiff same = TensorComparison.compare("z", t(new float[] {Float.NaN, Float.NEGATIVE_INFINITY}, 2),
        t(new float[] {Float.NaN, Float.NEGATIVE_INFINITY}, 2), Tolerance.of(0, 0), null);
    assertThat(same.passed()).isTrue();
    assertThat(same.maxAbsError()).isZero();
  }

  @Test
  void theFirstFailingLayerIsTheFirstFailingTensorInExpectedOrder() {
    String[] names = {"model.embed_tokens", "model.layers.0.mlp", "model.layers.1.self_attn", "model.layers.1.mlp",
        "model.layers.2.mlp", "model.norm"};
    Map<String, Object> exp = new LinkedHashMap<>();
    Map<String, Object> act = new LinkedHashMap<>();
    for (String n : names) {
      exp.put(n, t(new float[] {1, 2}, 1, 2));
      act.put(n, t(n.contains("layers.0") || n.contains("embed") || n.contains("self_attn")
          ? new float[] {1, 2} : new float[] {1, 2.01f}, 1, 2));
    }
    ComparisonReport r = TensorComparison.compare(exp, act, DEFAULT, null);
    assertThat(r.firstFailure()).get().extracting(TensorDiff::name).isEqualTo("model.layers.1.mlp");
    assertThat(r.firstFailure().get().layer()).hasValue(1);
    assertThat(r.summary()).isEqualTo("first failing layer: model.layers.1.mlp (layer 1); 3 of 6 tensors fail atol=1e-4 rtol=0");
    assertThat(r.describeFailures()).startsWith(r.summary() + "\ntensor 'model.layers.1.mlp' [1, 2]: 1 of 2 elements")
        .contains("worst at [0, 1]: expected 2, actual 2.01").contains("tensor 'model.norm'");
  }

  @Test
  void layerNumbersOfHuggingFaceNames() {
    assertThat(LayerNames.layerIndex("model.layers.2.mlp")).hasValue(2);
    assertThat(LayerNames.layerIndex("encoder.layer.11.attention.output")).hasValue(11);
    assertThat(LayerNames.layerIndex("encoder.block.3.layer.0")).hasValue(3);
    assertThat(LayerNames.layerIndex("deberta.encoder.layer.5")).hasValue(5);
    assertThat(LayerNames.layerIndex("transformer.h.7.attn")).hasValue(7);
    assertThat(LayerNames.layerIndex("model.layers.12.self_attn[0]")).hasValue(12);
    assertThat(LayerNames.layerIndex("layers.4")).hasValue(4);
    assertThat(LayerNames.layerIndex("hidden_states[3]")).isEmpty();
    assertThat(LayerNames.layerIndex("model.embed_tokens")).isEmpty();
    assertThat(LayerNames.layerIndex("encoder.layernorm.3")).isEmpty();
    assertThat(LayerNames.layerIndex("model.layers.99999999999.mlp")).isEmpty();
  }

  @Test
  void filesRoundTripAndTheJsonReportParses() throws IOException {
    Path ref = tmp.resolve("ref.json");
    Path out = tmp.resolve("out.json");
    TensorJson.write(ref, Map.of("model.layers.0.mlp", t(new float[] {0.1f, 0.2f, 0.3f, 0.4f}, 1, 2, 2)));
    TensorJson.write(out, Map.of("model.layers.0.mlp", t(new float[] {0.1f, 0.2f, 0.3f, 0.45f}, 1, 2, 2),
        "logits", t(new float[] {1}, 1)));
    ComparisonReport r = TensorComparison.compareFiles(ref, out, DEFAULT, null);
    assertThat(r.passed()).isFalse();
    JsonNode j = new ObjectMapper().readTree(r.toJson());
    assertThat(j.get("passed").asBoolean()).isFalse();
    assertThat(j.get("atol").asDouble()).isEqualTo(1e-4);
    JsonNode t0 = j.get("tensors").get(0);
    assertThat(t0.get("name").asText()).isEqualTo("model.layers.0.mlp");
    assertThat(t0.get("layer").asInt()).isEqualTo(0);
    assertThat(t0.get("outcome").asText()).isEqualTo("OUT_OF_TOLERANCE");
    assertThat(t0.get("worst_index").toString()).isEqualTo("[0,1,1]");
    assertThat(t0.get("expected").toString()).isEqualTo("0.4");
    assertThat(t0.get("actual").toString()).isEqualTo("0.45");
    assertThat(t0.get("max_abs").asDouble()).isEqualTo((double) 0.45f - (double) 0.4f);
    assertThat(j.get("not_compared").toString()).isEqualTo("[\"logits\"]");
    assertThat(j.get("first_failure").get("layer").asInt()).isZero();
    assertThat(r.text()).contains("[0, 1, 1]").contains("FAIL  1 beyond tolerance");
  }

  @Test
  void viewsScalarsEmptyAndIntegerTensorsCompareByValue() {
    INDArray base = Nd4j.arange(6).castTo(DataType.FLOAT).reshape(2, 3);
    INDArray viewT = base.transpose(); // [3, 2] view
    INDArray plain = Nd4j.create(new float[] {0, 3, 1, 4, 2, 5}, new long[] {3, 2}, 'c');
    assertThat(TensorComparison.compare("v", plain, viewT, Tolerance.of(0, 0), null).passed()).isTrue();
    TensorDiff scalar = TensorComparison.compare("s", Nd4j.scalar(2.5f), Nd4j.scalar(2.75f), DEFAULT, null);
    assertThat(scalar.worstIndex()).isEmpty();
    assertThat(scalar.maxAbsError()).isEqualTo(0.25);
    TensorDiff empty = TensorComparison.compare("e", Nd4j.zeros(DataType.FLOAT, 0, 4), Nd4j.zeros(DataType.FLOAT, 0, 4),
        DEFAULT, Nd4j.zeros(DataType.LONG, 0, 4));
    assertThat(empty.passed()).isTrue();
    assertThat(empty.compared()).isZero();
    assertThat(empty.worstIndex()).isNull();
    TensorDiff ids = TensorComparison.compare("ids", Nd4j.createFromArray(new long[] {5, 7}),
        Nd4j.createFromArray(new long[] {5, 8}), DEFAULT, null);
    assertThat(ids.worstIndex()).containsExactly(1);
    assertThat(ids.maxAbsError()).isEqualTo(1.0);
    TensorDiff bools = TensorComparison.compare("b", Nd4j.createFromArray(true, false, true),
        Nd4j.createFromArray(true, true, true), Tolerance.of(0.5, 0), null);
    assertThat(bools.worstIndex()).containsExactly(1);
    assertThat(bools.actualValue()).isEqualTo(1.0);
    assertThat(bools.mismatched()).isEqualTo(1);
  }

  @Test
  void badArgumentsAreNamedErrors() throws IOException {
    INDArray x = Nd4j.ones(DataType.FLOAT, 2, 2);
    assertThatThrownBy(() -> TensorComparison.compare("x", x, x, DEFAULT, Nd4j.createFromArray(new long[] {1, 1})))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("the attention mask has shape [2], not [batch, length]");
    assertThatThrownBy(() -> TensorComparison.compare("x", x, x, DEFAULT, Nd4j.createFromArray(new long[][] {{1, 2}})))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("the attention mask holds 2 at [0, 1] (only 0 and 1 allowed)");
    assertThatThrownBy(() -> Tolerance.of(-1, 0)).hasMessage("atol must be a finite number >= 0, not -1.0");
    assertThatThrownBy(() -> Tolerance.of(0, Double.NaN)).hasMessage("rtol must be a finite number >= 0, not NaN");
    assertThatThrownBy(() -> TensorComparison.compare(Map.of("a", "text"), Map.of(), DEFAULT, null))
        .hasMessage("expected: 'a' is a String, not a tensor or a list of tensors");
    Map<String, Object> dup = new LinkedHashMap<>();
    dup.put("h[0]", x);
    dup.put("h", List.of(x));
    assertThatThrownBy(() -> TensorComparison.compare(Map.of("a", x), dup, DEFAULT, null))
        .hasMessage("actual: the tensor name 'h[0]' occurs twice (a key and an entry of a list)");
    Path empty = tmp.resolve("empty.json");
    TensorJson.write(empty, Map.of());
    assertThatThrownBy(() -> TensorComparison.compareFiles(empty, empty, DEFAULT, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(empty + " holds no tensors: nothing to compare");
  }
}
