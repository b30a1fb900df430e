package org.promptrecovery4j.models.sentence;

/**
 * Text → token ids for an encoder, with the model's special tokens and truncation applied (for
 * sentence-t5: the T5 SentencePiece vocabulary, {@code </s>} appended, at most max_seq_length ids).
 *
 * <p>Implemented over the tokenizer module's {@code Tokenizer} (see {@code TextEncoders} in the cli), or
 * by tests with fixed ids.
 */
@FunctionalInterface
public interface TextEncoder {

  int[] encode(String text);

  /** The id used to pad a batch (its positions are masked out). */
  default int padId() {
    return 0;
  }

  /** One more than the largest id {@link #encode} can give (its vocabulary and added tokens); -1 if unknown. */
  default int idLimit() {
    return -1;
  }

  /**
   * A tokenizer's ids with its special tokens (for sentence-t5: {@code </s>} appended), truncated to
   * {@code maxLength} ids with the special tokens kept, as sentence-transformers tokenizes.
   */
  static TextEncoder of(org.promptrecovery4j.tokenizer.Tokenizer tokenizer, int maxLength) {
    org.promptrecovery4j.tokenizer.Tokenizer truncating = tokenizer.withTruncation(maxLength);
    int pad = Math.max(tokenizer.padId(), 0);
    return new TextEncoder() {
      @Override
      public int[] encode(String text) {
        return truncating.encode(text, true).ids();
      }

      @Override
      public int padId() {
        return pad;
      }

      @Override
      public int idLimit() {
        return tokenizer.idLimit();
      }
    };
  }

  /**
   * {@link #of(org.promptrecovery4j.tokenizer.Tokenizer, int)}, the text lowercased first when {@code lowerCase}
   * (sentence-transformers' {@code do_lower_case}, Python's {@code str.lower()}).
   */
  static TextEncoder of(org.promptrecovery4j.tokenizer.Tokenizer tokenizer, int maxLength, boolean lowerCase) {
    TextEncoder e = of(tokenizer, maxLength);
    return lowerCase ? e.lowercasing() : e;
  }

  /** This encoder on lowercased text (sentence-transformers' {@code do_lower_case}: Python's {@code str.lower()}). */
  default TextEncoder lowercasing() {
    TextEncoder base = this;
    return new TextEncoder() {
      @Override
      public int[] encode(String text) {
        return base.encode(text.toLowerCase(java.util.Locale.ROOT));
      }

      @Override
      public int padId() {
        return base.padId();
      }

      @Override
      public int idLimit() {
        return base.idLimit();
      }
    };
  }
}
