package org.promptrecovery4j.core.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import org.promptrecovery4j.core.NpyReader;
import org.promptrecovery4j.testsupport.Fuzzing;

/**
 * .npy matrices ({@link NpyReader#readFloat32}, the features and targets of train-head): loaded or a named error,
 * whatever the bytes — a shape claiming more values than the file holds is refused before anything is allocated.
 */
class NpyFuzzTest {

  @FuzzTest
  void npy(byte[] data) throws Exception {
    Path file = Fuzzing.file("features.npy", data);
    Fuzzing.loadedOrNamedError(file, () -> NpyReader.readFloat32(file));
  }
}
