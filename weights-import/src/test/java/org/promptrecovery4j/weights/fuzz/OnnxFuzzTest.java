package org.promptrecovery4j.weights.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import org.promptrecovery4j.testsupport.Fuzzing;
import org.promptrecovery4j.weights.onnx.OnnxFile;

/** One ONNX {@code ModelProto} ({@link OnnxFile}): initializers named and every small tensor read, or a named error. */
class OnnxFuzzTest {

  @FuzzTest
  void onnx(byte[] data) throws Exception {
    Path file = Fuzzing.file("model.onnx", data);
    Fuzzing.loadedOrNamedError(file, () -> {
      try (OnnxFile f = OnnxFile.open(file)) {
        f.droppedConstants();
        WeightsFuzz.readAll(f);
      }
    });
  }
}
