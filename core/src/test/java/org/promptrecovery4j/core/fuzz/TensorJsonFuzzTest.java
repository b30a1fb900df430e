package org.promptrecovery4j.core.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import org.promptrecovery4j.core.TensorJson;
import org.promptrecovery4j.testsupport.Fuzzing;

/**
 * Tensor JSON files ({@link TensorJson#read}): loaded or a named error, whatever the bytes — a shape
 * claiming more values than the file holds is refused before anything is allocated, deep nesting is a
 * named error and never a StackOverflowError.
 */
class TensorJsonFuzzTest {

  @FuzzTest
  void tensorJson(byte[] data) throws Exception {
    Path file = Fuzzing.file("tensors.json", data);
    Fuzzing.loadedOrNamedError(file, () -> TensorJson.read(file));
  }
}
