package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tokenize / detokenize through the command line on a committed fixture tokenizer. */
class TokenizeCommandTest {
  static Path fixture(String name) {
    return Path.of(System.getProperty("pr4j.fixtures", "../fixtures"), "tokenizers", name);
  }

  @Test
  void tokenizeThenDetokenize(@TempDir Path dir) throws IOException {
    Path in = dir.resolve("in.jsonl");
    Files.writeString(in, "{\"text\": \"hello world\"}\n{\"text\": \"\"}\n");
    Path out = dir.resolve("out.jsonl");
    int rc = Main.run("tokenize", "--tokenizer", fixture("mistral-like.tokenizer.json").toString(),
        "--input", in.toString(), "--output", out.toString());
    assertThat(rc).isZero();
    List<String> lines = Files.readAllLines(out);
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).startsWith("{\"ids\":[1,").contains("\"tokens\":[\"<s>\"");
    assertThat(lines.get(1)).isEqualTo("{\"ids\":[1],\"tokens\":[\"<s>\"]}");

    Path out2 = dir.resolve("plain.jsonl");
    assertThat(Main.run("tokenize", "--tokenizer", fixture("mistral-like.tokenizer.json").toString(),
        "--no-special-tokens", "--input", in.toString(), "--output", out2.toString())).isZero();
    assertThat(Files.readAllLines(out2).get(1)).isEqualTo("{\"ids\":[],\"tokens\":[]}");

    Path dec = dir.resolve("dec.jsonl");
    assertThat(Main.run("detokenize", "--tokenizer", fixture("mistral-like.tokenizer.json").toString(),
        "--skip-special-tokens", "--input", out.toString(), "--output", dec.toString())).isZero();
    assertThat(Files.readAllLines(dec)).containsExactly("{\"text\":\"hello world\"}", "{\"text\":\"\"}");
  }

  @Test
  void badIdFailsAndWritesNothing(@TempDir Path dir) throws IOException {
    Path in = dir.resolve("ids.jsonl");
    Files.writeString(in, "{\"ids\": [1, 2]}\n{\"ids\": [77777]}\n");
    Path out = dir.resolve("out.jsonl");
    int rc = Main.run("detokenize", "--tokenizer", fixture("llama-bpe.model").toString(),
        "--input", in.toString(), "--output", out.toString());
    assertThat(rc).isEqualTo(1);
    assertThat(out).doesNotExist();
  }
}
