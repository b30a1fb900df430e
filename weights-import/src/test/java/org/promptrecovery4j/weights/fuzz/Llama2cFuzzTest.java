package org.promptrecovery4j.weights.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import org.promptrecovery4j.testsupport.Fuzzing;
import org.promptrecovery4j.weights.llama2c.Llama2cCheckpoint;

/** A llama2.c checkpoint ({@link Llama2cCheckpoint}), legacy or version 1: loaded or a named error. */
class Llama2cFuzzTest {

  @FuzzTest
  void llama2c(byte[] data) throws Exception {
    Path file = Fuzzing.file("model.bin", data);
    Fuzzing.loadedOrNamedError(file, () -> {
      Llama2cCheckpoint.looksLike(file);
      try (Llama2cCheckpoint c = Llama2cCheckpoint.open(file)) {
        c.config();
        WeightsFuzz.readAll(c);
      }
    });
  }
}
