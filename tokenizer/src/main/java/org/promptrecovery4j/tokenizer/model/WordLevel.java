package org.promptrecovery4j.tokenizer.model;

import java.util.List;
import org.promptrecovery4j.tokenizer.Token;

/** One word, one id (unk when absent). */
public final class WordLevel implements Model {
  private final Vocab vocab;
  private final String unkToken;

  public WordLevel(Vocab vocab, String unkToken) {
    this.vocab = vocab;
    this.unkToken = unkToken;
  }

  @Override
  public void tokenize(String word, List<Token> out) {
    int id = vocab.id(word);
    if (id >= 0) {
      out.add(new Token(id, word));
    } else if (unkToken != null && vocab.id(unkToken) >= 0) {
      out.add(new Token(vocab.id(unkToken), unkToken));
    } else {
      throw new org.promptrecovery4j.tokenizer.TokenizerException("WordLevel: '" + word + "' not in the vocabulary and no unk token");
    }
  }

  @Override
  public int tokenToId(String token) {
    return vocab.id(token);
  }

  @Override
  public String idToToken(int id) {
    return vocab.token(id);
  }

  @Override
  public int vocabSize() {
    return vocab.size();
  }
}
