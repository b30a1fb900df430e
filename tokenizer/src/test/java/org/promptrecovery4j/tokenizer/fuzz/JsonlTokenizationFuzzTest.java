package org.promptrecovery4j.tokenizer.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.promptrecovery4j.testsupport.Fuzzing;
import org.promptrecovery4j.tokenizer.JsonlTokenization;
import org.promptrecovery4j.tokenizer.Tokenizer;
import org.promptrecovery4j.tokenizer.Tokenizers;

/**
 * The JSONL inputs of {@code tokenize} / {@code detokenize} ({@link JsonlTokenization}), with a fixed small
 * tokenizer (the committed WordPiece fixture): each file is tokenized and detokenized; either gives its
 * output or a named error, whatever the bytes.
 */
class JsonlTokenizationFuzzTest {

  private static final Tokenizer TOKENIZER;

  static {
    try {
      TOKENIZER = Tokenizers.load(Path.of(System.getProperty("pr4j.fixtures", "../fixtures"),
          "tokenizers", "wordpiece.tokenizer.json"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @FuzzTest
  void jsonl(byte[] data) throws Exception {
    Path file = Fuzzing.file("inputs.jsonl", data);
    Path out = file.resolveSibling("out.jsonl");
    Fuzzing.loadedOrNamedError(file, () -> JsonlTokenization.tokenize(TOKENIZER, file, out, true));
    Fuzzing.loadedOrNamedError(file, () -> JsonlTokenization.detokenize(TOKENIZER, file, out, false));
  }
}
