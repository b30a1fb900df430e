package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8: {@code forward} and {@code inspect} on a copy of a tiny model folder whose config.json asks for
 * absurd or inconsistent sizes end with exit 1 and one {@code error:} line naming the key, and no stack trace
 * (never an OutOfMemoryError or an ND4J shape error).
 */
class AbsurdConfigTest {

  @TempDir Path tmp;

  private Path copyWith(String from, String to) throws Exception {
    Path src = CliRunner.FIXTURES.resolve("tiny-mistral-gqa2");
    Path dir = Files.createDirectories(tmp.resolve("absurd-model"));
    for (String f : List.of("model.safetensors", "inputs.json")) {
      Files.copy(src.resolve(f), dir.resolve(f));
    }
    String config = Files.readString(src.resolve("config.json"));
    assertThat(config).contains(from);
    Files.writeString(dir.resolve("config.json"), config.replace(from, to));
    return dir;
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "\"hidden_size\": 32|\"hidden_size\": 1000000000|\"hidden_size\" is 1000000000, outside the supported range",
      "\"num_attention_heads\": 4|\"num_attention_heads\": 0|\"num_attention_heads\" is 0",
      "\"num_attention_heads\": 4|\"num_attention_heads\": -3|\"num_attention_heads\" is -3",
      "\"num_key_value_heads\": 2|\"num_key_value_heads\": 3|is not a multiple of \"num_key_value_heads\" 3",
      "\"vocab_size\": 96|\"vocab_size\": 0|\"vocab_size\" is 0",
      "\"max_position_embeddings\": 64|\"max_position_embeddings\": 1000000000|\"max_position_embeddings\" is 1000000000",
      "\"intermediate_size\": 48|\"intermediate_size\": 2000000000|\"intermediate_size\" is 2000000000",
      "\"num_hidden_layers\": 2|\"num_hidden_layers\": 100000000|\"num_hidden_layers\" is 100000000",
      "\"hidden_size\": 32|\"hidden_size\": 64|tensor 'model.embed_tokens.weight' is [96, 32]",
  })
  void forwardAndInspectEndWithOneNamedLine(String from, String to, String expected) throws Exception {
    Path dir = copyWith(from, to);
    for (String command : List.of("forward", "inspect")) {
      CliRunner r = command.equals("forward")
          ? CliRunner.run("forward", "--model", dir.toString(), "--input", dir.resolve("inputs.json").toString(),
              "--output", tmp.resolve("out.json").toString())
          : CliRunner.run("inspect", "--model", dir.toString());
      if (command.equals("inspect") && expected.startsWith("tensor ")) {
        continue; // inspect reads the config and the tensors' headers, not the graph: the shapes are not bound
      }
      assertThat(r.exitCode()).as(command + ": " + r.err()).isEqualTo(1);
      assertThat(r.err()).as(command).doesNotContain("\tat ").doesNotContain("Exception").doesNotContain("Error:");
      List<String> errors = r.err().lines().filter(l -> l.startsWith("error: ")).toList();
      assertThat(errors).as(command + ": " + r.err()).hasSize(1);
      assertThat(errors.get(0)).as(command).contains(expected);
      assertThat(tmp.resolve("out.json")).doesNotExist();
    }
  }
}
