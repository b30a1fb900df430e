package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.models.generation.PromptCodec;

/** {@code generate --prompt --chat} through the real Mistral tokenizer gives the ids HuggingFace gives. */
class PromptCodecsTest {

  static final Path MISTRAL_TOKENIZER =
      Path.of(System.getProperty("pr4j.shared", "../../shared"), "conformance/tokenizers/mistral-7b-instruct-v0.2");

  @Test
  void mistralChatPromptIdsEqualApplyChatTemplateWithTokenize(@TempDir Path tmp) throws Exception {
    assumeTrue(Files.isDirectory(MISTRAL_TOKENIZER), "skipped: " + MISTRAL_TOKENIZER + " is absent (../shared)");
    ObjectMapper json = new ObjectMapper();
    JsonNode expected = json.readTree(CliRunner.FIXTURES.resolve("chat-templates/expected.json").toFile());
    int checked = 0;
    for (String name : new String[] {"mistral-v0.2-old", "mistral-v0.2-new"}) {
      // a model folder: the real tokenizer.json with a tokenizer_config.json carrying the hub's chat template
      Path dir = Files.createDirectories(tmp.resolve(name));
      Files.copy(MISTRAL_TOKENIZER.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
      ObjectNode cfg = (ObjectNode) json.readTree(MISTRAL_TOKENIZER.resolve("tokenizer_config.json").toFile());
      cfg.put("chat_template", expected.get("templates").get(name).get("chat_template").asText());
      json.writeValue(dir.resolve("tokenizer_config.json").toFile(), cfg);
      PromptCodec codec = PromptCodecs.fromTokenizer(dir);
      for (JsonNode c : expected.get("cases")) {
        if (!c.get("template").asText().equals(name) || c.get("messages").size() != 1 || !c.has("mistral_ids")) {
          continue;
        }
        String content = c.get("messages").get(0).get("content").asText();
        int[] ids = codec.promptIds(content, true, null);
        // tokenizer.json semantics (HF tokenizers, and transformers 4.x): exact for both templates
        assertThat(ids).as(name + ": " + content)
            .containsExactly(json.convertValue(c.get("mistral_tokenizer_json_ids"), int[].class));
        if (name.equals("mistral-v0.2-old")) {
          // no space after <s>: transformers 5's rebuilt LlamaTokenizer gives the same ids
          assertThat(ids).containsExactly(json.convertValue(c.get("mistral_ids"), int[].class));
          assertThat(codec.decode(ids)).isEqualTo(c.get("rendered").asText().replace("<s>", ""));
        }
        checked++;
      }
    }
    assertThat(checked).isGreaterThanOrEqualTo(4);
  }

  @Test
  void aModelWithoutTokenizerNeedsInputIds(@TempDir Path tmp) {
    assertThat(PromptCodecs.forModel(tmp)).isNull();
    assertThatThrownBy(() -> PromptCodecs.required(tmp)).hasMessageContaining(tmp.toString()).hasMessageContaining("--input-ids");
  }
}
