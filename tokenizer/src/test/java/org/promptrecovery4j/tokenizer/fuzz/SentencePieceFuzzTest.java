package org.promptrecovery4j.tokenizer.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import org.promptrecovery4j.testsupport.Fuzzing;
import org.promptrecovery4j.tokenizer.Tokenizer;
import org.promptrecovery4j.tokenizer.TokenizerConfig;
import org.promptrecovery4j.tokenizer.Tokenizers;

/**
 * SentencePiece {@code .model} files (the protobuf reader {@code SentencePieceModel} and
 * {@link Tokenizers#fromSentencePiece}): loaded (then encoding and decoding a few texts works) or a named
 * error, whatever the bytes.
 */
class SentencePieceFuzzTest {

  @FuzzTest
  void sentencePiece(byte[] data) throws Exception {
    Path file = Fuzzing.file("tokenizer.model", data);
    Fuzzing.loadedOrNamedError(file, () -> {
      Tokenizer t = Tokenizers.fromSentencePiece(file, TokenizerConfig.EMPTY);
      Exercise.encodeDecode(file, t);
    });
  }
}
