package org.promptrecovery4j.cli;

import java.nio.file.Path;
import org.promptrecovery4j.models.TokenizerCodecs;
import org.promptrecovery4j.models.generation.PromptCodec;

/**
 * Text ↔ ids for {@code generate --prompt}: the model folder's own tokenizer and chat template
 * ({@link TokenizerCodecs}), through a factory that tests can swap.
 */
final class PromptCodecs {

  @FunctionalInterface
  interface Factory {
    /** The codec of a model folder (or of the folder holding a checkpoint file); throws if it has no tokenizer. */
    PromptCodec create(Path model);
  }

  static final Factory DEFAULT = PromptCodecs::fromTokenizer;

  /** The factory {@code generate} uses (tests swap in a toy one). */
  static Factory factory = DEFAULT;

  private PromptCodecs() {}

  static PromptCodec fromTokenizer(Path model) {
    return TokenizerCodecs.load(model);
  }

  /** The codec if the model has a tokenizer, else null (token-id prompts need none). */
  static PromptCodec forModel(Path model) {
    try {
      return factory.create(model);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** The codec, or the reason there is none (text prompts need one). */
  static PromptCodec required(Path model) {
    PromptCodec c;
    try {
      c = factory.create(model);
    } catch (RuntimeException e) {
      throw new IllegalStateException(e.getMessage() + " (text prompts need the model's tokenizer; or give token ids"
          + " with --input-ids 1,2,3)", e);
    }
    if (c == null) {
      throw new IllegalStateException(model + ": no tokenizer for text prompts; give token ids with --input-ids 1,2,3");
    }
    return c;
  }
}
