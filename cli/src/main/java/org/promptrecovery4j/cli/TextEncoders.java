package org.promptrecovery4j.cli;

import java.nio.file.Path;
import org.promptrecovery4j.models.sentence.TextEncoder;

/**
 * Text → ids for the sentence-t5 commands ({@code embed}, {@code score}).
 *
 * <p><b>Pending the tokenizer merge.</b> The tokenizer module (branch {@code tokenizer}) is not in this
 * build yet, so {@link #DEFAULT} refuses text with a clear message; pre-tokenized {@code input_ids} work.
 * After the merge the default becomes, for a sentence-transformers folder {@code dir}:
 * <pre>{@code
 * Tokenizer tok = Tokenizers.load(dir).withTruncation(maxLength);       // tokenizer.json / spiece.model
 * return text -> tok.encode(text, true).ids();                            // appends </s> (id 1)
 * }</pre>
 * and for {@code --kaggle-compat}: max length 128 and a literal {@code </s>} in the text tokenized as
 * plain characters (needs the tokenizer option that skips added-token matching), then {@code </s>} appended.
 */
final class TextEncoders {

  /** Makes the text encoder of a model folder. */
  @FunctionalInterface
  interface Factory {
    TextEncoder create(Path modelDir, int maxLength, boolean kaggleCompat);
  }

  static final Factory DEFAULT = (dir, maxLength, kaggleCompat) -> {
    throw new IllegalStateException("text input needs the tokenizer module, which is not merged into this build yet;"
        + " give pre-tokenized input (jsonl lines {\"input_ids\": [...]}) to embed");
  };

  /** The factory the commands use (tests swap in a toy one). */
  static Factory factory = DEFAULT;

  /** PyTorch sentence-transformers' max length for sentence-t5 (sentence_bert_config.json). */
  static final int PYTORCH_MAX_LENGTH = 256;

  /** The TensorFlow sentence-t5 of the Kaggle metric truncates at 128 tokens. */
  static final int KAGGLE_MAX_LENGTH = 128;

  private TextEncoders() {}

  static TextEncoder forModel(Path dir, int configuredMaxLength, boolean kaggleCompat) {
    int max = kaggleCompat ? KAGGLE_MAX_LENGTH : (configuredMaxLength > 0 ? configuredMaxLength : PYTORCH_MAX_LENGTH);
    return factory.create(dir, max, kaggleCompat);
  }
}
