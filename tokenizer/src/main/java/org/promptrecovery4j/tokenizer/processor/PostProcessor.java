package org.promptrecovery4j.tokenizer.processor;

import java.util.ArrayList;
import java.util.List;
import org.promptrecovery4j.tokenizer.Token;

/** Step 4 of the pipeline: adds special tokens around one or two token sequences. */
public interface PostProcessor {
  /** A token with its type id and whether it is special. */
  record Piece(Token token, int typeId, boolean special) {}

  /**
   * @param b the second sequence or null
   * @return the pieces of the full sequence
   */
  List<Piece> process(List<Token> a, List<Token> b, boolean addSpecialTokens);

  /** How many special tokens are added to a single (pair=false) or pair sequence. */
  int addedTokens(boolean pair);

  static List<Piece> plain(List<Token> a, List<Token> b) {
    List<Piece> out = new ArrayList<>();
    for (Token t : a) {
      out.add(new Piece(t, 0, false));
    }
    if (b != null) {
      for (Token t : b) {
        out.add(new Piece(t, 1, false));
      }
    }
    return out;
  }
}
