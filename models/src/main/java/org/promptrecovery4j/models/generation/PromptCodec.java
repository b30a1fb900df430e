package org.promptrecovery4j.models.generation;

/**
 * Text ↔ ids for generation from text: what a tokenizer gives the {@code generate} command. The
 * tokenizer module's {@code Tokenizer} fits it: {@code encode(text, addSpecial).ids()},
 * {@code decode(ids, true)}, and a {@link ChatTemplate} from {@code TokenizerConfig}'s chat_template
 * ({@link ChatTemplate#fromJinja}).
 */
public interface PromptCodec extends TokenDecoder {

  int[] encode(String text, boolean addSpecialTokens);

  /** One more than the largest id {@link #encode} can give (its vocabulary and added tokens); -1 if unknown. */
  default int idLimit() {
    return -1;
  }

  /** The model's chat template, or null when the tokenizer has none. */
  ChatTemplate chatTemplate();

  /** The tokenizer's EOS id, or -1 when it names none. */
  default int eosId() {
    return -1;
  }

  /** The id of one token ({@code <end_of_turn>}), or -1 when the tokenizer has no such token. */
  default int tokenToId(String token) {
    return -1;
  }

  /**
   * The ids of a prompt: with {@code chat}, the text as one user turn through the chat template (encoded
   * without extra special tokens, as HF's {@code apply_chat_template}) then {@code responsePrefix};
   * otherwise the text with the tokenizer's special tokens.
   */
  default int[] promptIds(String text, boolean chat, String responsePrefix) {
    if (!chat) {
      return encode(responsePrefix == null ? text : text + responsePrefix, true);
    }
    ChatTemplate t = chatTemplate();
    if (t == null) {
      throw new IllegalArgumentException("--chat needs a chat_template in the model's tokenizer_config.json");
    }
    return encode(t.prompt(text, responsePrefix), false);
  }
}
