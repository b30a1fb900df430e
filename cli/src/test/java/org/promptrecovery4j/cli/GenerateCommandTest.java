package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.models.generation.ChatTemplate;
import org.promptrecovery4j.models.generation.PromptCodec;

class GenerateCommandTest {

  static final ObjectMapper JSON = new ObjectMapper();

  static Path fixture(String name) {
    return Path.of(System.getProperty("pr4j.fixtures", "../fixtures")).resolve(name);
  }

  @AfterEach
  void reset() {
    PromptCodecs.factory = PromptCodecs.DEFAULT;
  }

  @Test
  void greedyIdsFromInputIdsEqualHuggingFace(@TempDir Path tmp) throws Exception {
    JsonNode c = JSON.readTree(fixture("tiny-phi").resolve("expected.json").toFile()).get("greedy").get(1);
    String ids = stream(c.get("prompt"));
    Path out = tmp.resolve("out.json");
    int rc = Main.run("generate", "--model", fixture("tiny-phi").toString(), "--input-ids", ids,
        "--max-new-tokens", "8", "--greedy", "--no-eos", "--output", out.toString());
    assertThat(rc).isZero();
    JsonNode r = JSON.readTree(out.toFile());
    assertThat(stream(r.get("generated_ids"))).isEqualTo(stream(c.get("generated")));
    assertThat(r.get("finish_reason").asText()).isEqualTo("length");
  }

  @Test
  void textPromptWithChatTemplateThroughACodec(@TempDir Path tmp) throws Exception {
    // a toy codec: one id per character (mod the tiny vocab) stands in for the tokenizer until the merge
    String[] seen = new String[1];
    PromptCodecs.factory = dir -> new PromptCodec() {
      @Override
      public int[] encode(String text, boolean special) {
        seen[0] = text;
        return text.chars().map(ch -> 3 + ch % 90).toArray();
      }

      @Override
      public String decode(int[] ids) {
        return Arrays.stream(ids).mapToObj(i -> "<" + i + ">").collect(Collectors.joining());
      }

      @Override
      public ChatTemplate chatTemplate() {
        return new ChatTemplate(ChatTemplate.Family.MISTRAL, "<s>", "</s>");
      }
    };
    Path out = tmp.resolve("out.json");
    int rc = Main.run("generate", "--model", fixture("tiny-mistral-gqa2").toString(), "--prompt", "Rewrite: hi",
        "--chat", "--response-prefix", "Modify", "--max-new-tokens", "3", "--temperature", "0.8", "--top-p", "0.9",
        "--seed", "3", "--output", out.toString());
    assertThat(rc).isZero();
    assertThat(seen[0]).isEqualTo("<s>[INST] Rewrite: hi [/INST]Modify");
    JsonNode r = JSON.readTree(out.toFile());
    assertThat(r.get("generated_ids").size()).isBetween(1, 3);
    assertThat(r.get("text").asText()).startsWith("<");
  }

  @Test
  void textWithoutATokenizerIsAClearError() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream old = System.err;
    int rc;
    try {
      System.setErr(new PrintStream(err, true));
      rc = new picocli.CommandLine(new Main()).setErr(new java.io.PrintWriter(err, true))
          .setExecutionExceptionHandler((ex, cl, pr) -> {
            cl.getErr().println("error: " + ex.getMessage());
            return 1;
          })
          .execute("generate", "--model", fixture("tiny-phi").toString(), "--prompt", "hi", "--max-new-tokens", "2");
    } finally {
      System.setErr(old);
    }
    assertThat(rc).isEqualTo(1);
    assertThat(err.toString()).contains("--input-ids");
  }

  static String stream(JsonNode a) {
    StringBuilder sb = new StringBuilder();
    for (JsonNode n : a) {
      sb.append(sb.length() == 0 ? "" : ",").append(n.asInt());
    }
    return sb.toString();
  }
}
