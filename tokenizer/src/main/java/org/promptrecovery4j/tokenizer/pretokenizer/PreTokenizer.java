package org.promptrecovery4j.tokenizer.pretokenizer;

import java.util.List;

/** Step 2 of the pipeline: splits a normalized segment into words for the model. */
public interface PreTokenizer {
  /**
   * Splits {@code piece} and appends the non-empty results to {@code out}.
   *
   * @param atStart whether {@code piece} starts at offset 0 of the original input
   */
  void split(String piece, boolean atStart, List<String> out);
}
