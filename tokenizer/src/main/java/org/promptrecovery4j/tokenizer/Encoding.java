package org.promptrecovery4j.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The result of encoding one text (or a pair): token ids, token strings, type ids, attention mask
 * and a mask marking the special tokens added by the post-processor or matched as special added
 * tokens. Immutable.
 */
public final class Encoding {
  private final int[] ids;
  private final List<String> tokens;
  private final int[] typeIds;
  private final int[] attentionMask;
  private final int[] specialTokensMask;

  public Encoding(int[] ids, List<String> tokens, int[] typeIds, int[] attentionMask, int[] specialTokensMask) {
    if (tokens.size() != ids.length || typeIds.length != ids.length || attentionMask.length != ids.length
        || specialTokensMask.length != ids.length) {
      throw new IllegalArgumentException("encoding arrays differ in length");
    }
    this.ids = ids;
    this.tokens = Collections.unmodifiableList(new ArrayList<>(tokens));
    this.typeIds = typeIds;
    this.attentionMask = attentionMask;
    this.specialTokensMask = specialTokensMask;
  }

  /** The token ids (a copy). */
  public int[] ids() {
    return ids.clone();
  }

  /** The token strings as the vocabulary spells them. */
  public List<String> tokens() {
    return tokens;
  }

  public int[] typeIds() {
    return typeIds.clone();
  }

  /** 1 for real tokens, 0 for padding. */
  public int[] attentionMask() {
    return attentionMask.clone();
  }

  /** 1 where the token is special (added by the post-processor or a special added token). */
  public int[] specialTokensMask() {
    return specialTokensMask.clone();
  }

  public int length() {
    return ids.length;
  }

  @Override
  public String toString() {
    return "Encoding" + Arrays.toString(ids) + tokens;
  }
}
