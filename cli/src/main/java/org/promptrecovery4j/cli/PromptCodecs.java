package org.promptrecovery4j.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.promptrecovery4j.models.generation.ChatTemplate;
import org.promptrecovery4j.models.generation.PromptCodec;
import org.promptrecovery4j.tokenizer.Tokenizer;
import org.promptrecovery4j.tokenizer.Tokenizers;

/**
 * Text ↔ ids for {@code generate --prompt}: the model folder's own tokenizer (picked as
 * {@code AutoTokenizer} would) and its {@code chat_template} from {@code tokenizer_config.json}.
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
    Path dir = Files.isDirectory(model) ? model : model.toAbsolutePath().getParent();
    Tokenizer tok;
    try {
      tok = Tokenizers.load(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(dir + ": cannot load the tokenizer: " + e.getMessage(), e);
    }
    return of(tok);
  }

  /** A codec over a loaded tokenizer: ids with or without special tokens, decodes without them. */
  static PromptCodec of(Tokenizer tok) {
    String template = tok.config().chatTemplate();
    return new PromptCodec() {
      @Override
      public int[] encode(String text, boolean addSpecialTokens) {
        return tok.encode(text, addSpecialTokens).ids();
      }

      @Override
      public String decode(int[] ids) {
        return tok.decode(ids, true);
      }

      @Override
      public int idLimit() {
        return tok.idLimit();
      }

      @Override
      public ChatTemplate chatTemplate() {
        // parsed only when --chat asks for it, so an unsupported template does not stop plain prompts
        return template == null ? null
            : ChatTemplate.fromJinja(template, tokenOrNull(tok, tok.bosId()), tokenOrNull(tok, tok.eosId()));
      }
    };
  }

  private static String tokenOrNull(Tokenizer tok, int id) {
    return id < 0 ? null : tok.idToToken(id);
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
