package org.promptrecovery4j.models.generation;

/**
 * Turns generated token ids into text, for stop strings and results. The tokenizer module's
 * {@code Tokenizer.decode(ids, skipSpecial)} fits it ({@code ids -> tokenizer.decode(ids, true)}); it is
 * kept to this one method so generation does not depend on the tokenizer module.
 */
@FunctionalInterface
public interface TokenDecoder {
  String decode(int[] ids);
}
