package org.promptrecovery4j.models.generation;

import java.util.List;

/**
 * The chat templates of the instruct models we use, rendered natively exactly as HF's
 * {@code apply_chat_template(tokenize=False)} renders their Jinja source (the fixture
 * chat-templates/expected.json holds transformers' renderings). The family is recognised from the
 * {@code chat_template} of {@code tokenizer_config.json}; other templates are refused, never guessed.
 *
 * <ul>
 *   <li>{@link Family#MISTRAL} — Mistral-7B-Instruct v0.1/v0.2 as first published:
 *       {@code <s>[INST] user [/INST]answer</s>[INST] …}; no system role.
 *   <li>{@link Family#MISTRAL_SPACED} — the later hub revision: {@code <s> [INST] user [/INST] answer</s>}, an
 *       optional system message put before the first user message.
 *   <li>{@link Family#GEMMA} — Gemma-it: {@code <bos><start_of_turn>user\ntext<end_of_turn>\n…
 *       <start_of_turn>model\n}, contents trimmed, assistant called {@code model}; no system role.
 * </ul>
 */
public final class ChatTemplate {

  public enum Family {
    MISTRAL, MISTRAL_SPACED, GEMMA
  }

  public record Message(String role, String content) {
    public static Message user(String content) {
      return new Message("user", content);
    }

    public static Message assistant(String content) {
      return new Message("assistant", content);
    }
  }

  private final Family family;
  private final String bos;
  private final String eos;

  public ChatTemplate(Family family, String bosToken, String eosToken) {
    this.family = family;
    this.bos = bosToken;
    this.eos = eosToken;
  }

  /** Recognises a {@code chat_template} string (tokenizer_config.json); an error for other templates. */
  public static ChatTemplate fromJinja(String template, String bosToken, String eosToken) {
    if (template == null) {
      throw new IllegalArgumentException("the tokenizer has no chat_template");
    }
    if (template.contains("<start_of_turn>")) {
      return new ChatTemplate(Family.GEMMA, bosToken, eosToken);
    }
    if (template.contains("[INST]")) {
      return new ChatTemplate(template.contains("' [INST] '") ? Family.MISTRAL_SPACED : Family.MISTRAL, bosToken, eosToken);
    }
    throw new IllegalArgumentException("unsupported chat template (supported: Mistral [INST] and Gemma "
        + "<start_of_turn> templates): " + (template.length() > 80 ? template.substring(0, 80) + "…" : template));
  }

  public Family family() {
    return family;
  }

  /** The conversation as the model reads it; {@code addGenerationPrompt} opens the model's turn. */
  public String render(List<Message> messages, boolean addGenerationPrompt) {
    if (messages.isEmpty()) {
      throw new IllegalArgumentException("no messages to render");
    }
    String system = null;
    List<Message> turns = messages;
    if (messages.get(0).role().equals("system")) {
      if (family != Family.MISTRAL_SPACED) {
        throw new IllegalArgumentException(family == Family.GEMMA ? "System role not supported"
            : "Conversation roles must alternate user/assistant/user/assistant/...");
      }
      system = messages.get(0).content();
      turns = messages.subList(1, messages.size());
    }
    StringBuilder out = new StringBuilder(bos);
    for (int i = 0; i < turns.size(); i++) {
      Message m = turns.get(i);
      if (m.role().equals("user") != (i % 2 == 0)) {
        throw new IllegalArgumentException(family == Family.MISTRAL_SPACED
            ? "After the optional system message, conversation roles must alternate user/assistant/user/assistant/..."
            : "Conversation roles must alternate user/assistant/user/assistant/...");
      }
      boolean user = m.role().equals("user");
      if (!user && !m.role().equals("assistant")) {
        throw new IllegalArgumentException("Only user and assistant roles are supported!");
      }
      switch (family) {
        case MISTRAL -> out.append(user ? "[INST] " + m.content() + " [/INST]" : m.content() + eos);
        case MISTRAL_SPACED -> out.append(user
            ? " [INST] " + (i == 0 && system != null ? system + "\n\n" : "") + m.content() + " [/INST]"
            : " " + m.content() + eos);
        case GEMMA -> out.append("<start_of_turn>").append(user ? "user" : "model").append('\n')
            .append(m.content().strip()).append("<end_of_turn>\n");
      }
    }
    if (addGenerationPrompt && family == Family.GEMMA) {
      out.append("<start_of_turn>model\n");
    }
    return out.toString();
  }

  /**
   * The token that ends the model's turn: {@code <end_of_turn>} for Gemma (its tokenizer's EOS is {@code <eos>}, which
   * an answer does not end with), the EOS token for Mistral; null when unknown.
   */
  public String endOfTurnToken() {
    return family == Family.GEMMA ? "<end_of_turn>" : eos;
  }

  /**
   * One user turn opened for the model's answer, the answer started with {@code responsePrefix}
   * (e.g. "Modify this text by", as the 4th-place solution primed Mistral); null or empty for none.
   */
  public String prompt(String userText, String responsePrefix) {
    String s = render(List.of(Message.user(userText)), true);
    return responsePrefix == null ? s : s + responsePrefix;
  }
}
