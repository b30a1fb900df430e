package org.promptrecovery4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.promptrecovery4j.testkit.TensorAssertions.assertThatTensor;
import static org.promptrecovery4j.testkit.TensorAssertions.assertThatTensors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.core.TensorJson;

class TensorAssertionsTest {

  @TempDir Path tmp;

  static INDArray t(float... v) {
    return Nd4j.create(v, new long[] {1, 2, 2}, 'c');
  }

  @Test
  void aTensorWithinTolerancePasses() {
    assertThatTensor(t(1, 2, 3, 4.00005f)).named("x").isCloseTo(t(1, 2, 3, 4), 1e-4, 0);
    assertThatTensor(t(100, 2, 3, 4)).isCloseTo(t(100.5f, 2, 3, 4), 0, 0.01);
  }

  @Test
  void aFailingTensorNamesItselfTheWorstIndexBothValuesTheErrorAndTheTolerance() {
    assertThatThrownBy(() -> assertThatTensor(t(1, 2, 3.25f, 4)).named("model.layers.2.mlp")
        .isCloseTo(t(1, 2, 3, 4), 1e-4, 0))
        .isInstanceOf(AssertionError.class)
        .hasMessage("""
            tensor 'model.layers.2.mlp' [1, 2, 2]: 1 of 4 elements beyond atol=1e-4 rtol=0
              worst at [0, 1, 0]: expected 3, actual 3.25, |actual - expected| = 2.500e-01 > allowed 1.000e-04
              max abs error 2.500e-01, max rel error 8.333e-02, 4 of 4 elements compared""");
    assertThatThrownBy(() -> assertThatTensor(Nd4j.zeros(2, 3)).named("logits").isCloseTo(Nd4j.zeros(3, 2), 1, 0))
        .isInstanceOf(AssertionError.class)
        .hasMessage("tensor 'logits' [3, 2]: shape [2, 3] in actual, [3, 2] expected");
    assertThatThrownBy(() -> assertThatTensor(t(1, Float.NaN, 3, 4)).isCloseTo(t(1, 2, 3, 4), 1e-4, 0))
        .isInstanceOf(AssertionError.class)
        .hasMessageStartingWith("tensor 'tensor' [1, 2, 2]: NaN in actual at [0, 0, 1] where expected is 2\n")
        .hasMessageContaining("worst at [0, 0, 1]: expected 2, actual NaN, |actual - expected| = Infinity > allowed");
  }

  @Test
  void aMaskedPaddedPositionIsNotCompared() {
    INDArray mask = Nd4j.createFromArray(new long[][] {{1, 0}});
    assertThatTensor(t(1, 2, 1e6f, 4)).withMask(mask).isCloseTo(t(1, 2, 3, 4), 1e-4, 0);
    assertThatThrownBy(() -> assertThatTensor(t(1, 2, 1e6f, 4)).isCloseTo(t(1, 2, 3, 4), 1e-4, 0))
        .hasMessageContaining("worst at [0, 1, 0]: expected 3, actual 1000000");
  }

  @Test
  void tensorMapsAndFilesReportTheFirstFailingLayerAndEveryFailingTensor() throws IOException {
    Map<String, Object> exp = new LinkedHashMap<>();
    exp.put("model.embed_tokens", t(1, 2, 3, 4));
    exp.put("model.layers.0", t(1, 2, 3, 4));
    exp.put("model.layers.1", t(5, 6, 7, 8));
    exp.put("hidden_states", List.of(t(0, 0, 0, 0)));
    Map<String, Object> act = new LinkedHashMap<>(exp);
    act.put("model.layers.1", t(5, 6.5f, 7, 8));
    act.put("hidden_states", List.of(t(0, 0, 0, -0.125f)));
    act.put("logits", t(1, 1, 1, 1));

    assertThatTensors(exp).areCloseTo(exp, 0, 0);
    assertThatThrownBy(() -> assertThatTensors(act).areCloseTo(exp, 1e-4, 0))
        .isInstanceOf(AssertionError.class)
        .hasMessage("""
            the tensors of actual are not close to those of expected: first failing layer: model.layers.1 (layer 1); \
            2 of 4 tensors fail atol=1e-4 rtol=0
            tensor 'model.layers.1' [1, 2, 2]: 1 of 4 elements beyond atol=1e-4 rtol=0
              worst at [0, 0, 1]: expected 6, actual 6.5, |actual - expected| = 5.000e-01 > allowed 1.000e-04
              max abs error 5.000e-01, max rel error 8.333e-02, 4 of 4 elements compared
            tensor 'hidden_states[0]' [1, 2, 2]: 1 of 4 elements beyond atol=1e-4 rtol=0
              worst at [0, 1, 1]: expected 0, actual -0.125, |actual - expected| = 1.250e-01 > allowed 1.000e-04
              max abs error 1.250e-01, max rel error Infinity, 4 of 4 elements compared
            not compared (only in actual): logits""");

    Path ref = tmp.resolve("ref.json");
    Path out = tmp.resolve("out.json");
    TensorJson.write(ref, exp);
    TensorJson.write(out, act);
    assertThatTensors(out).areCloseTo(ref, 0.5, 0); // within 0.5: passes, logits only in actual
    assertThatThrownBy(() -> assertThatTensors(out).areCloseTo(ref, 0.2, 0))
        .hasMessageStartingWith("the tensors of " + out + " are not close to those of " + ref
            + ": first failing layer: model.layers.1 (layer 1); 1 of 4 tensors fail atol=0.2 rtol=0");

    Map<String, Object> missing = new LinkedHashMap<>(exp);
    missing.remove("model.layers.0");
    assertThatThrownBy(() -> assertThatTensors(missing).areCloseTo(exp, 1, 0))
        .hasMessageContaining("tensor 'model.layers.0' [1, 2, 2]: not in actual");
  }

  @Test
  void theDocsQuoteTheReadmeExampleAsItIs() throws IOException {
    Path root = Path.of(System.getProperty("pr4j.root", ".."));
    String source = Files.readString(root.resolve("testkit/src/test/java/org/promptrecovery4j/testkit/ReadmeExampleTest.java"));
    int start = source.indexOf("  @Test\n");
    String method = source.substring(start, source.indexOf("\n  }\n", start) + 5);
    String quoted = method.lines().map(l -> l.startsWith("  ") ? l.substring(2) : l)
        .reduce((a, b) -> a + "\n" + b).orElseThrow();
    assertThat(Files.readString(root.resolve("docs/numerics-kit.md"))).contains("```java\n" + quoted + "\n```");
    assertThat(Files.readString(root.resolve("README.md"))).contains("```java\n" + quoted + "\n```");
  }

  @Test
  void unreadableFilesAreErrorsNamingThem() throws IOException {
    Path bad = tmp.resolve("bad.json");
    Files.writeString(bad, "{not json");
    assertThatThrownBy(() -> assertThatTensors(bad)).isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining(bad.toString());
    Path empty = tmp.resolve("empty.json");
    TensorJson.write(empty, Map.of());
    assertThatThrownBy(() -> assertThatTensors(Map.of("x", t(1, 2, 3, 4))).areCloseTo(empty, 1e-4, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(empty + " holds no tensors: nothing to compare");
  }
}
