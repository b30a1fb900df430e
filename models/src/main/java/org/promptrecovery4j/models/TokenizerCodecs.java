package org.promptrecovery4j.models;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import org.promptrecovery4j.models.generation.CausalLM;
import org.promptrecovery4j.models.generation.ChatTemplate;
import org.promptrecovery4j.models.generation.PromptCodec;
import org.promptrecovery4j.tokenizer.Tokenizer;
import org.promptrecovery4j.tokenizer.Tokenizers;

/**
 * Text ↔ ids for generation from text: a model folder's own tokenizer (picked as {@code AutoTokenizer} would) and
 * its {@code chat_template} from {@code tokenizer_config.json}, as a {@link PromptCodec}.
 */
public final class TokenizerCodecs {

  private TokenizerCodecs() {}

  /** The codec of a model folder (or of the folder holding a checkpoint file); an error if it has no tokenizer. */
  public static PromptCodec load(Path model) {
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
  public static PromptCodec of(Tokenizer tok) {
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
      public int eosId() {
        return tok.eosId();
      }

      @Override
      public int tokenToId(String token) {
        return tok.tokenToId(token);
      }

      @Override
      public ChatTemplate chatTemplate() {
        // parsed only when asked for, so an unsupported template does not stop plain prompts
        return template == null ? null
            : ChatTemplate.fromJinja(template, tokenOrNull(tok, tok.bosId()), tokenOrNull(tok, tok.eosId()));
      }
    };
  }

  private static String tokenOrNull(Tokenizer tok, int id) {
    return id < 0 ? null : tok.idToToken(id);
  }

  /**
   * The ids an answer ends with: the model config's {@code eos_token_id}s, the tokenizer's EOS and, with a chat
   * template, the token that ends the model's turn (Gemma's {@code <end_of_turn>}, which its config does not list).
   */
  public static Set<Integer> stopIds(CausalLM lm, PromptCodec codec, ChatTemplate template) {
    Set<Integer> ids = new LinkedHashSet<>(lm.dims().eosTokenIds());
    if (codec.eosId() >= 0) {
      ids.add(codec.eosId());
    }
    if (template != null && template.endOfTurnToken() != null) {
      int end = codec.tokenToId(template.endOfTurnToken());
      if (end >= 0) {
        ids.add(end);
      }
    }
    return ids;
  }
}
