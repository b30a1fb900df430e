package org.promptrecovery4j.cli;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import org.promptrecovery4j.testsupport.Fuzzing;

/**
 * The token-id input files of {@code forward} ({@link IdsJson}: plain nested lists or a tensor JSON tensor
 * per key): loaded or a named error, whatever the bytes.
 */
class IdsJsonFuzzTest {

  @FuzzTest
  void idsJson(byte[] data) throws Exception {
    Path file = Fuzzing.file("inputs.json", data);
    Fuzzing.loadedOrNamedError(file, () -> {
      IdsJson in = IdsJson.read(file);
      in.get("input_ids", true);
      in.get("attention_mask", false);
    });
  }
}
