package org.promptrecovery4j.tokenizer.spm;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * How transformers' slow SentencePiece tokenizers turn tokens into text when special tokens are
 * kept: the pieces between special tokens are decoded by SentencePiece one run at a time, special
 * tokens are written as they are, and added tokens beyond the SentencePiece vocabulary are joined
 * with spaces. Three flavours: LlamaTokenizer (legacy), T5Tokenizer and DebertaV2Tokenizer.
 */
public final class SlowSpmDecoding {
  public enum Flavour { LLAMA_LEGACY, T5, DEBERTA }

  private final Flavour flavour;
  private final SpmDecoder pieces;
  private final boolean spacesBetweenSpecialTokens;

  public SlowSpmDecoding(Flavour flavour, boolean addDummyPrefix, boolean removeExtraWhitespaces,
      boolean spacesBetweenSpecialTokens) {
    this.flavour = flavour;
    this.pieces = new SpmDecoder(addDummyPrefix, removeExtraWhitespaces, false);
    this.spacesBetweenSpecialTokens = spacesBetweenSpecialTokens;
  }

  /**
   * @param tokens the tokens left after skipping (or not) the special ones
   * @param special which of them are special tokens
   * @param legacyAdded which of them are added tokens outside the SentencePiece vocabulary that
   *     transformers writes as separate texts
   */
  public String decode(List<String> tokens, Set<Integer> special, Set<Integer> legacyAdded) {
    List<String> subTexts = new ArrayList<>();
    List<String> current = new ArrayList<>();
    List<Boolean> currentSpecial = new ArrayList<>();
    for (int i = 0; i < tokens.size(); i++) {
      if (legacyAdded.contains(i)) {
        if (!current.isEmpty()) {
          String s = convert(current, currentSpecial);
          if (!s.isEmpty()) {
            subTexts.add(s);
          }
          current.clear();
          currentSpecial.clear();
        }
        subTexts.add(tokens.get(i));
      } else {
        current.add(tokens.get(i));
        currentSpecial.add(special.contains(i));
      }
    }
    if (!current.isEmpty()) {
      subTexts.add(convert(current, currentSpecial));
    }
    return String.join(spacesBetweenSpecialTokens ? " " : "", subTexts);
  }

  private String convert(List<String> tokens, List<Boolean> isSpecial) {
    StringBuilder out = new StringBuilder();
    List<String> sub = new ArrayList<>();
    boolean prevSpecial = false;
    for (int i = 0; i < tokens.size(); i++) {
      if (isSpecial.get(i)) {
        boolean space = flavour == Flavour.LLAMA_LEGACY ? !prevSpecial && i != 0 : !prevSpecial;
        if (space) {
          out.append(' ');
        }
        out.append(pieces.decode(sub)).append(tokens.get(i));
        prevSpecial = true;
        sub.clear();
      } else {
        sub.add(tokens.get(i));
        prevSpecial = false;
      }
    }
    out.append(pieces.decode(sub));
    return flavour == Flavour.LLAMA_LEGACY ? out.toString() : SpmDecoder.pyStrip(out.toString());
  }
}
