package org.promptrecovery4j.tokenizer.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import org.promptrecovery4j.testsupport.Fuzzing;
import org.promptrecovery4j.tokenizer.Tokenizer;
import org.promptrecovery4j.tokenizer.TokenizerConfig;
import org.promptrecovery4j.tokenizer.TokenizerJson;

/**
 * HF {@code tokenizer.json} files ({@link TokenizerJson#load}): loaded (then encoding and decoding a few
 * texts works) or a named error, whatever the bytes. The file's own regexes (Split pre-tokenizer,
 * Replace normalizer/decoder) are compiled on purpose, so Jazzer's regex-injection hook is off for this
 * harness (src/test/resources/junit-platform.properties).
 */
class TokenizerJsonFuzzTest {

  @FuzzTest
  void tokenizerJson(byte[] data) throws Exception {
    Path file = Fuzzing.file("tokenizer.json", data);
    Fuzzing.loadedOrNamedError(file, () -> {
      Tokenizer t = TokenizerJson.load(file, TokenizerConfig.EMPTY);
      Exercise.encodeDecode(file, t);
    });
  }
}
