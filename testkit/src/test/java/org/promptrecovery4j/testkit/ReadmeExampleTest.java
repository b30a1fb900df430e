package org.promptrecovery4j.testkit;

import static org.promptrecovery4j.testkit.TensorAssertions.assertThatTensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.core.TensorJson;

/**
 * The example docs/numerics-kit.md quotes: a JVM model's tensors (a tensor JSON file) asserted against a
 * PyTorch reference (another), padded positions left out. {@link #writeFiles} stands in for the reference dump
 * and the JVM capture.
 */
class ReadmeExampleTest {

  @TempDir static Path dir;

  @Test
  void jvmActivationsMatchPyTorch() throws IOException {
    Path reference = dir.resolve("reference.json"); // from PyTorch
    Path jvm = dir.resolve("jvm.json");             // from this project
    INDArray mask = (INDArray) TensorJson.read(dir.resolve("inputs.json")).get("attention_mask");

    assertThatTensors(jvm).withMask(mask).areCloseTo(reference, 1e-4, 0);
  }

  @BeforeAll
  static void writeFiles() throws IOException {
    INDArray h = Nd4j.linspace(-1, 1, 2 * 3 * 4).reshape(2, 3, 4).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
    INDArray off = h.dup();
    off.putScalar(new long[] {1, 2, 0}, 42f); // a padded position: garbage in either model, masked out
    TensorJson.write(dir.resolve("reference.json"), Map.of("model.layers.0", h, "hidden_states", List.of(h, h)));
    TensorJson.write(dir.resolve("jvm.json"), Map.of("model.layers.0", off.add(3e-5), "hidden_states", List.of(h, off)));
    TensorJson.write(dir.resolve("inputs.json"), Map.of(
        "input_ids", Nd4j.createFromArray(new long[][] {{5, 6, 7}, {8, 9, 0}}),
        "attention_mask", Nd4j.createFromArray(new long[][] {{1, 1, 1}, {1, 1, 0}})));
  }
}
