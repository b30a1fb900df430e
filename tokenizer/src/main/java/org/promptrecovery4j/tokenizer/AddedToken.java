package org.promptrecovery4j.tokenizer;

/** A token matched in the raw text before the model runs (HF's AddedToken). */
public record AddedToken(int id, String content, boolean special, boolean lstrip, boolean rstrip,
    boolean singleWord, boolean normalized) {

  public static AddedToken special(int id, String content) {
    return new AddedToken(id, content, true, false, false, false, false);
  }
}
