package org.promptrecovery4j.weights.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import org.promptrecovery4j.weights.SafetensorsFile;
import org.promptrecovery4j.testsupport.Fuzzing;

/** One {@code .safetensors} file ({@link SafetensorsFile}), header and data: loaded or a named error. */
class SafetensorsFuzzTest {

  @FuzzTest
  void safetensors(byte[] data) throws Exception {
    Path file = Fuzzing.file("model.safetensors", data);
    Fuzzing.loadedOrNamedError(file, () -> {
      try (SafetensorsFile f = SafetensorsFile.open(file)) {
        f.metadata();
        WeightsFuzz.readAll(f);
      }
    });
  }
}
