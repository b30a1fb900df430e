package org.promptrecovery4j.weights.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import org.promptrecovery4j.testsupport.Fuzzing;
import org.promptrecovery4j.weights.config.BertConfig;
import org.promptrecovery4j.weights.config.DebertaV2Config;
import org.promptrecovery4j.weights.config.ModelConfig;
import org.promptrecovery4j.weights.config.PhiConfig;
import org.promptrecovery4j.weights.config.T5Config;

/**
 * {@code config.json} → a typed {@link ModelConfig}, with the sizes the models derive from it (head dims,
 * rotary dims, relative-position table sizes): loaded or a named error.
 */
class ConfigFuzzTest {

  @FuzzTest
  void config(byte[] data) throws Exception {
    Path file = Fuzzing.file("config.json", data);
    Fuzzing.loadedOrNamedError(file, () -> {
      ModelConfig c = ModelConfig.read(file);
      c.toString();
      if (c instanceof DebertaV2Config d) {
        d.headDim();
        d.posEbdSize();
      } else if (c instanceof PhiConfig p) {
        p.headDim();
        p.rotaryDim();
      } else if (c instanceof T5Config t) {
        t.innerDim();
      } else if (c instanceof BertConfig b) {
        b.headDim();
      }
    });
  }
}
