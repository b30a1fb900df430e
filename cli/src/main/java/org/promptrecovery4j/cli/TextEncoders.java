package org.promptrecovery4j.cli;

import java.nio.file.Path;
import org.promptrecovery4j.models.sentence.TextEncoder;

/**
 * Text → ids for the sentence-t5 commands ({@code embed}, {@code score}): the model folder's tokenizer
 * ({@code tokenizer.json} or {@code spiece.model}), {@code </s>} appended, truncated to the max length.
 *
 * <p>{@code --kaggle-compat} reproduces the TensorFlow sentence-t5 of the competition: at most 128
 * tokens, and special tokens written in the text (a literal {@code </s>}) read as plain characters, as
 * its SentencePiece does; PyTorch's tokenizer matches them as special tokens.
 */
final class TextEncoders {

  /** Makes the text encoder of a model folder. */
  @FunctionalInterface
  interface Factory {
    TextEncoder create(Path modelDir, int maxLength, boolean kaggleCompat);
  }

  static final Factory DEFAULT = (dir, maxLength, kaggleCompat) -> {
    org.promptrecovery4j.tokenizer.Tokenizer tok;
    try {
      tok = org.promptrecovery4j.tokenizer.Tokenizers.load(dir);
    } catch (java.io.IOException | RuntimeException e) {
      throw new IllegalStateException("text input needs the model's tokenizer: " + e.getMessage()
          + "; or give pre-tokenized input (jsonl lines {\"input_ids\": [...]}) to embed", e);
    }
    return TextEncoder.of(kaggleCompat ? tok.withSpecialTokensAsText() : tok, maxLength);
  };

  /** The factory the commands use (tests swap in a toy one). */
  static Factory factory = DEFAULT;

  /** PyTorch sentence-transformers' max length for sentence-t5 (sentence_bert_config.json). */
  static final int PYTORCH_MAX_LENGTH = org.promptrecovery4j.models.sentence.SentenceEmbedder.DEFAULT_MAX_LENGTH;

  /** The TensorFlow sentence-t5 of the Kaggle metric truncates at 128 tokens. */
  static final int KAGGLE_MAX_LENGTH = 128;

  private TextEncoders() {}

  static TextEncoder forModel(Path dir, int configuredMaxLength, boolean kaggleCompat) {
    int max = kaggleCompat ? KAGGLE_MAX_LENGTH : (configuredMaxLength > 0 ? configuredMaxLength : PYTORCH_MAX_LENGTH);
    return factory.create(dir, max, kaggleCompat);
  }

  /** The text encoder of a loaded sentence-transformers folder: its max_seq_length and do_lower_case. */
  static TextEncoder forModel(Path dir, org.promptrecovery4j.models.sentence.SentenceTransformer st, boolean kaggleCompat) {
    TextEncoder e = forModel(dir, st.maxSeqLength(), kaggleCompat);
    return st.doLowerCase() ? e.lowercasing() : e;
  }
}
