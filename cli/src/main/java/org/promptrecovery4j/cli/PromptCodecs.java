package org.promptrecovery4j.cli;

import java.nio.file.Path;
import org.promptrecovery4j.models.generation.PromptCodec;

/**
 * Text ↔ ids for {@code generate --prompt}.
 *
 * <p><b>MERGE(tokenizer): pending the tokenizer merge.</b> The tokenizer module (branch {@code tokenizer}) is
 * not in this build yet, so {@link #DEFAULT} refuses text with a clear message; {@code --input-ids} works.
 * After the merge the default becomes, for a model folder {@code dir}:
 * <pre>{@code
 * Tokenizer tok = Tokenizers.load(dir);
 * String template = tok.config().chatTemplate();                      // tokenizer_config.json
 * ChatTemplate chat = template == null ? null
 *     : ChatTemplate.fromJinja(template, tok.idToToken(tok.bosId()), tok.idToToken(tok.eosId()));
 * return new PromptCodec() {
 *   public int[] encode(String text, boolean special) { return tok.encode(text, special).ids(); }
 *   public String decode(int[] ids) { return tok.decode(ids, true); }
 *   public ChatTemplate chatTemplate() { return chat; }
 * };
 * }</pre>
 */
final class PromptCodecs {

  @FunctionalInterface
  interface Factory {
    PromptCodec create(Path modelDir);
  }

  static final Factory DEFAULT = dir -> null;

  /** The factory {@code generate} uses (tests swap in a toy one); null result = no tokenizer. */
  static Factory factory = DEFAULT;

  private PromptCodecs() {}

  static PromptCodec forModel(Path dir) {
    return factory.create(dir);
  }

  static PromptCodec required(Path dir) {
    PromptCodec c = forModel(dir);
    if (c == null) {
      throw new IllegalStateException("text prompts need the tokenizer module, which is not merged into this build"
          + " yet; give token ids with --input-ids 1,2,3");
    }
    return c;
  }
}
