package org.promptrecovery4j.models.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Native renderings against transformers' Jinja renderings of the same templates. */
class ChatTemplateTest {

  @Test
  void rendersExactlyAsHuggingFace() throws Exception {
    JsonNode root = DecoderFixtures.expected("chat-templates");
    int checked = 0;
    for (JsonNode c : root.get("cases")) {
      JsonNode t = root.get("templates").get(c.get("template").asText());
      ChatTemplate template = ChatTemplate.fromJinja(t.get("chat_template").asText(), t.get("bos_token").asText(),
          t.get("eos_token").asText());
      List<ChatTemplate.Message> messages = new ArrayList<>();
      for (JsonNode m : c.get("messages")) {
        messages.add(new ChatTemplate.Message(m.get("role").asText(), m.get("content").asText()));
      }
      boolean gen = c.get("add_generation_prompt").asBoolean();
      if (c.has("error")) {
        assertThatThrownBy(() -> template.render(messages, gen)).isInstanceOf(IllegalArgumentException.class)
            .hasMessage(c.get("error").asText());
      } else {
        assertThat(template.render(messages, gen)).as(c.toString()).isEqualTo(c.get("rendered").asText());
      }
      checked++;
    }
    assertThat(checked).isEqualTo(24);
  }

  @Test
  void familiesAndResponsePrefix() {
    assertThat(ChatTemplate.fromJinja("{{ '<start_of_turn>' }}", "<bos>", "<eos>").family())
        .isEqualTo(ChatTemplate.Family.GEMMA);
    ChatTemplate mistral = new ChatTemplate(ChatTemplate.Family.MISTRAL, "<s>", "</s>");
    assertThat(mistral.prompt("Rewrite: x", "Modify this text by"))
        .isEqualTo("<s>[INST] Rewrite: x [/INST]Modify this text by");
    assertThatThrownBy(() -> ChatTemplate.fromJinja("{{ messages }}", "<s>", "</s>"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unsupported chat template");
  }
}
