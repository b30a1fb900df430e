package org.promptrecovery4j.models;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.TensorJson;

/** The committed reference fixtures (tools/reference/) and the tolerance. */
public final class Fixtures {

  private Fixtures() {}

  public static Path dir(String name) {
    Path p = Path.of(System.getProperty("pr4j.fixtures", "../fixtures")).resolve(name);
    assertThat(Files.isDirectory(p)).as("fixture folder %s", p).isTrue();
    return p;
  }

  public static Map<String, Object> read(String name, String file) throws IOException {
    return TensorJson.read(dir(name).resolve(file));
  }

  /**
   * Asserts {@code |actual − expected| ≤ 1e-4 + 1e-4·|expected|} at every non-padded position of a
   * [B, L, ...] tensor ({@code mask} [B, L], null for [B, ...] tensors) and returns the max-abs difference.
   */
  public static double assertClose(String what, INDArray expected, INDArray actual, INDArray mask) {
    assertThat(actual.shape()).as(what + " shape").containsExactly(expected.shape());
    float[] e = expected.dup('c').castTo(DataType.FLOAT).data().asFloat();
    float[] a = actual.dup('c').castTo(DataType.FLOAT).data().asFloat();
    long batch = expected.size(0);
    long perRow = e.length / batch;
    long length = mask == null ? 1 : expected.size(1);
    long perPos = perRow / length;
    double max = 0;
    for (int i = 0; i < e.length; i++) {
      long b = i / perRow;
      long pos = (i % perRow) / perPos;
      if (mask != null && mask.getDouble(b, pos) == 0) {
        continue;
      }
      double diff = Math.abs(a[i] - e[i]);
      max = Math.max(max, diff);
      if (!(diff <= 1e-4 + 1e-4 * Math.abs(e[i]))) {
        throw new AssertionError(what + ": at flat index " + i + " (row " + b + ", position " + pos + ") expected "
            + e[i] + " got " + a[i] + " (shape " + Arrays.toString(expected.shape()) + ")");
      }
    }
    return max;
  }

  /** Max |a − b| of two [B, L, H] tensors over the positions {@code mask} ([B, L], 0 = padding) keeps. */
  public static double maxAbsDiff(INDArray a, INDArray b, INDArray mask) {
    assertThat(a.shape()).containsExactly(b.shape());
    double max = 0;
    for (int i = 0; i < a.size(0); i++) {
      for (int t = 0; t < a.size(1); t++) {
        if (mask.getDouble(i, t) == 0) {
          continue;
        }
        for (int h = 0; h < a.size(2); h++) {
          max = Math.max(max, Math.abs(a.getDouble(i, t, h) - b.getDouble(i, t, h)));
        }
      }
    }
    return max;
  }
}
