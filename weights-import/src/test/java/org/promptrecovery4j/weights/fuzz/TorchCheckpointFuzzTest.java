package org.promptrecovery4j.weights.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import org.promptrecovery4j.testsupport.Fuzzing;
import org.promptrecovery4j.weights.TorchCheckpoint;

/**
 * A whole {@code pytorch_model.bin} ({@link TorchCheckpoint}): zip archive (central directory, local headers,
 * entries) or legacy format (a sequence of pickles and raw storages); loaded or a named error. The pickle
 * inside a zip is CRC-checked, so {@link TorchPickleFuzzTest} fuzzes it behind a valid archive.
 */
class TorchCheckpointFuzzTest {

  @FuzzTest
  void torch(byte[] data) throws Exception {
    Path file = Fuzzing.file("pytorch_model.bin", data);
    Fuzzing.loadedOrNamedError(file, () -> {
      try (TorchCheckpoint c = TorchCheckpoint.open(file)) {
        WeightsFuzz.readAll(c);
      }
    });
  }
}
