package org.promptrecovery4j.tokenizer.model;

import java.util.ArrayList;
import java.util.List;
import org.promptrecovery4j.tokenizer.Token;

/** BERT's greedy longest-match-first WordPiece. */
public final class WordPiece implements Model {
  private final Vocab vocab;
  private final String unkToken;
  private final String prefix;
  private final int maxInputCharsPerWord;

  public WordPiece(Vocab vocab, String unkToken, String continuingSubwordPrefix, int maxInputCharsPerWord) {
    this.vocab = vocab;
    this.unkToken = unkToken;
    this.prefix = continuingSubwordPrefix == null ? "##" : continuingSubwordPrefix;
    this.maxInputCharsPerWord = maxInputCharsPerWord;
    if (vocab.id(unkToken) < 0) {
      throw new IllegalArgumentException("WordPiece: unk token '" + unkToken + "' not in the vocabulary");
    }
  }

  @Override
  public void tokenize(String word, List<Token> out) {
    if (word.codePointCount(0, word.length()) > maxInputCharsPerWord) {
      out.add(new Token(vocab.id(unkToken), unkToken));
      return;
    }
    List<Token> sub = new ArrayList<>();
    int start = 0;
    int n = word.length();
    while (start < n) {
      int end = n;
      Token cur = null;
      while (start < end) {
        String s = word.substring(start, end);
        if (start > 0) {
          s = prefix + s;
        }
        int id = vocab.id(s);
        if (id >= 0) {
          cur = new Token(id, s);
          break;
        }
        end = word.offsetByCodePoints(end, -1);
      }
      if (cur == null) {
        out.add(new Token(vocab.id(unkToken), unkToken));
        return;
      }
      sub.add(cur);
      start = end;
    }
    out.addAll(sub);
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

  public String continuingSubwordPrefix() {
    return prefix;
  }
}
