package org.promptrecovery4j.tokenizer.model;

import java.util.List;
import org.promptrecovery4j.tokenizer.Token;

/** Step 3 of the pipeline: turns one pre-tokenized word into tokens. */
public interface Model {
  void tokenize(String word, List<Token> out);

  /** The id of a token, or -1. */
  int tokenToId(String token);

  /** The token of an id, or null. */
  String idToToken(int id);

  /** Number of entries in the model's vocabulary (added tokens not counted). */
  int vocabSize();
}
