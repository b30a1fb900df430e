package org.promptrecovery4j.training;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** fixtures/head-training (tools/reference/head_training_fixtures.py) and the comparisons of its tests. */
public final class HeadFixtures {

  private HeadFixtures() {}

  public static Path dir() {
    Path p = Path.of(System.getProperty("pr4j.fixtures", "../fixtures")).resolve("head-training");
    assertThat(Files.isDirectory(p)).as("fixture folder %s", p).isTrue();
    return p;
  }

  public static JsonNode expected() throws IOException {
    return new ObjectMapper().readTree(dir().resolve("expected.json").toFile());
  }

  /**
   * Asserts {@code |actual − expected| ≤ rel·|expected| + abs} elementwise and returns the largest
   * {@code |actual − expected| / max|expected|} (the tensor's relative difference, reported in the docs).
   */
  public static double assertClose(String what, INDArray expected, INDArray actual, double rel, double abs) {
    assertThat(actual.shape()).as(what + " shape").containsExactly(expected.shape());
    float[] e = expected.dup('c').castTo(DataType.FLOAT).data().asFloat();
    float[] a = actual.dup('c').castTo(DataType.FLOAT).data().asFloat();
    double maxDiff = 0;
    double scale = 0;
    for (int i = 0; i < e.length; i++) {
      double diff = Math.abs(a[i] - e[i]);
      maxDiff = Math.max(maxDiff, diff);
      scale = Math.max(scale, Math.abs(e[i]));
      if (!(diff <= rel * Math.abs(e[i]) + abs)) {
        throw new AssertionError(what + ": at flat index " + i + " expected " + e[i] + " got " + a[i] + " (diff " + diff
            + ", shape " + Arrays.toString(expected.shape()) + ")");
      }
    }
    return scale == 0 ? maxDiff : maxDiff / scale;
  }
}
