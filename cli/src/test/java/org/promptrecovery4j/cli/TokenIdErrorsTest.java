package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.promptrecovery4j.models.generation.ChatTemplate;
import org.promptrecovery4j.models.generation.PromptCodec;
import org.promptrecovery4j.models.sentence.TextEncoder;

/**
 * Issue 8: a token id outside the model's embedding table ends the CLI with exit 1 and one line naming
 * the id as written (it was a SIGSEGV, or exit 0 with made-up logits for a negative id), and writes no
 * output file.
 */
class TokenIdErrorsTest {

  static final List<String> CAUSAL = List.of("tiny-mistral-gqa2", "tiny-mistral-bf16-sharded", "tiny-llama-gqa3-bf16",
      "tiny-phi", "tiny-gemma-bf16", "tiny-llama2c-v1/model.bin");
  static final List<String> ENCODERS = List.of("deberta-v3-tiny-bf16", "deberta-v2-tiny-classic", "sentence-t5-tiny",
      "sentence-t5-tiny-gated-bf16", "bert-tiny-mean", "bert-tiny-cls-bf16");

  static Stream<Arguments> everyArchitecture() {
    return Stream.concat(CAUSAL.stream(), ENCODERS.stream()).flatMap(f -> Stream.of(Arguments.of(f, "99999"),
        Arguments.of(f, "-7")));
  }

  static Stream<Arguments> causalLMs() {
    return CAUSAL.stream().flatMap(f -> Stream.of(Arguments.of(f, "99999"), Arguments.of(f, "-7"),
        Arguments.of(f, "70000"), Arguments.of(f, "4294967297")));
  }

  static String fixture(String name) {
    return CliRunner.FIXTURES.resolve(name).toString();
  }

  @AfterEach
  void reset() {
    PromptCodecs.factory = PromptCodecs.DEFAULT;
    TextEncoders.factory = TextEncoders.DEFAULT;
  }

  /** Exit 1, exactly one {@code error:} line holding {@code id} and no stack trace. Returns that line. */
  static String oneLineError(CliRunner r, String id) {
    assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
    assertThat(r.err()).doesNotContain("\tat ").doesNotContain("Exception");
    List<String> errors = r.err().lines().filter(l -> l.startsWith("error: ")).toList();
    assertThat(errors).as(r.err()).hasSize(1);
    assertThat(errors.get(0)).contains(id);
    return errors.get(0);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("everyArchitecture")
  void forwardNamesTheBadIdAndWritesNothing(String model, String bad, @TempDir Path tmp) throws Exception {
    Path in = tmp.resolve("ids.json");
    Files.writeString(in, "{\"input_ids\": [[1, 2, " + bad + "]]}");
    Path out = tmp.resolve("out.json");
    String line = oneLineError(CliRunner.run("forward", "--model", fixture(model), "--input", in.toString(),
        "--output", out.toString()), "token id " + bad + " at row 0, position 2");
    assertThat(line).contains("outside the vocabulary [0, ");
    assertThat(out).doesNotExist();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("causalLMs")
  void generateNamesABadInputIdAndWritesNothing(String model, String bad, @TempDir Path tmp) {
    Path out = tmp.resolve("gen.json");
    String line = oneLineError(CliRunner.run("generate", "--model", fixture(model), "--input-ids", "1,5," + bad,
        "--max-new-tokens", "2", "--output", out.toString()), "token id " + bad + " at row 0, position 2");
    assertThat(line).contains("outside the vocabulary [0, ").contains("model.embed_tokens.weight");
    assertThat(out).doesNotExist();
  }

  @ParameterizedTest
  @ValueSource(strings = {"1e30", "9223372036854775808", "1.5", "\"7\"", "-1e400"})
  void oddJsonIdsAreNamedNotTruncated(String bad, @TempDir Path tmp) throws Exception {
    Path in = tmp.resolve("ids.json");
    Files.writeString(in, "{\"input_ids\": [[1, 2, " + bad + "]]}");
    Path out = tmp.resolve("out.json");
    CliRunner r = CliRunner.run("forward", "--model", fixture("tiny-mistral-bf16-sharded"), "--input", in.toString(),
        "--output", out.toString());
    String line = oneLineError(r, "\"input_ids\"[0][2]");
    assertThat(line).contains("is not an integer");
    assertThat(out).doesNotExist();
  }

  /** Fuzz finding (IdsJsonFuzzTest, finding-huge-exponent): a number no BigDecimal holds. */
  @Test
  void aNumberWithAnExponentPastIntIsANamedError(@TempDir Path tmp) throws Exception {
    Path in = tmp.resolve("ids.json");
    Files.writeString(in, "{\"input_ids\": [[1, 2, 3684775E863854775808]]}");
    Path out = tmp.resolve("out.json");
    String line = oneLineError(CliRunner.run("forward", "--model", fixture("tiny-phi"), "--input", in.toString(),
        "--output", out.toString()), "ids.json is not valid JSON");
    assertThat(line).contains("3684775E863854775808");
    Path jsonl = tmp.resolve("ids.jsonl");
    Files.writeString(jsonl, "{\"input_ids\": [1, 2e99999999999]}\n");
    line = oneLineError(CliRunner.run("embed", "--model", fixture("sentence-t5-tiny"), "--input", jsonl.toString(),
        "--output", tmp.resolve("e.npy").toString()), "ids.jsonl: line 1");
    assertThat(out).doesNotExist();
  }

  @Test
  void oddInputIdsAreNamedAsWritten(@TempDir Path tmp) {
    for (String bad : new String[] {"9223372036854775808", "1.5", "1e30", "x"}) {
      String line = oneLineError(CliRunner.run("generate", "--model", fixture("tiny-phi"), "--input-ids", "1,5," + bad,
          "--max-new-tokens", "2"), "token id " + bad + " at position 2");
      assertThat(line).contains("--input-ids");
    }
  }

  @Test
  void aCausalLMMaskMustBeZeroOrOneAndMatchTheIds(@TempDir Path tmp) throws Exception {
    Path in = tmp.resolve("ids.json");
    Path out = tmp.resolve("out.json");
    Files.writeString(in, "{\"input_ids\": [[1, 2, 3]], \"attention_mask\": [[1, 2, 1]]}");
    oneLineError(CliRunner.run("forward", "--model", fixture("tiny-phi"), "--input", in.toString(), "--output",
        out.toString()), "only 0 and 1");
    Files.writeString(in, "{\"input_ids\": [[1, 2, 3]], \"attention_mask\": [[1, 1]]}");
    oneLineError(CliRunner.run("forward", "--model", fixture("tiny-phi"), "--input", in.toString(), "--output",
        out.toString()), "does not match");
    assertThat(out).doesNotExist();
  }

  /** A toy codec: the prompt's characters as ids, {@code limit} ids claimed. */
  static PromptCodec codec(int[] ids, int limit) {
    return new PromptCodec() {
      @Override
      public int[] encode(String text, boolean special) {
        return ids;
      }

      @Override
      public String decode(int[] generated) {
        return "";
      }

      @Override
      public ChatTemplate chatTemplate() {
        return null;
      }

      @Override
      public int idLimit() {
        return limit;
      }
    };
  }

  @Test
  void generateFromATokenizerThatEmitsABadIdWarnsOnceThenNamesIt(@TempDir Path tmp) {
    PromptCodecs.factory = dir -> codec(new int[] {1, 99999}, 100000);
    Path out = tmp.resolve("gen.json");
    CliRunner r = CliRunner.run("generate", "--model", fixture("tiny-mistral-bf16-sharded"), "--prompt", "hi",
        "--max-new-tokens", "2", "--output", out.toString());
    oneLineError(r, "token id 99999 at row 0, position 1");
    assertThat(r.err().lines().filter(l -> l.startsWith("warning: ")).toList()).singleElement().asString()
        .contains("100000 ids").contains("only 64 rows").contains("model.embed_tokens.weight");
    assertThat(out).doesNotExist();
  }

  @Test
  void aModelFolderWhoseTokenizerOutgrowsItsTableWarnsAndRefusesTheIds(@TempDir Path tmp) throws Exception {
    // the 64-row bf16 Mistral with the 900-token tokenizer of tiny-mistral-text
    Path dir = tmp.resolve("model");
    Files.createDirectories(dir);
    try (Stream<Path> files = Files.list(CliRunner.FIXTURES.resolve("tiny-mistral-bf16-sharded"))) {
      for (Path f : files.toList()) {
        Files.copy(f, dir.resolve(f.getFileName()));
      }
    }
    for (String f : new String[] {"tokenizer.json", "tokenizer_config.json"}) {
      Files.copy(CliRunner.FIXTURES.resolve("tiny-mistral-text").resolve(f), dir.resolve(f));
    }
    Path out = tmp.resolve("gen.json");
    CliRunner r = CliRunner.run("generate", "--model", dir.toString(), "--prompt", "Rewrite the text as a poem",
        "--max-new-tokens", "2", "--output", out.toString());
    List<String> warnings = r.err().lines().filter(l -> l.startsWith("warning: ")).toList();
    assertThat(warnings).as(r.err()).singleElement().asString().contains(dir.toString()).contains("900 ids")
        .contains("only 64 rows");
    String line = oneLineError(r, "token id ");
    assertThat(line).contains("outside the vocabulary [0, 64) of model.embed_tokens.weight");
    assertThat(out).doesNotExist();
    // ids the table has still run, the warning notwithstanding
    assertThat(CliRunner.run("generate", "--model", dir.toString(), "--input-ids", "1,5,63", "--max-new-tokens", "2",
        "--output", out.toString()).exitCode()).isZero();
  }

  @Test
  void embedNamesBadIdsOfTextsAndOfPreTokenizedLines(@TempDir Path tmp) throws Exception {
    TextEncoders.factory = (dir, max, compat) -> new TextEncoder() {
      @Override
      public int[] encode(String text) {
        return new int[] {5, -7, 1};
      }

      @Override
      public int idLimit() {
        return 32128;
      }
    };
    Path texts = tmp.resolve("in.txt");
    Files.writeString(texts, "a\n");
    Path out = tmp.resolve("out.npy");
    CliRunner r = CliRunner.run("embed", "--model", fixture("sentence-t5-tiny"), "--input", texts.toString(),
        "--output", out.toString());
    oneLineError(r, "token id -7 at row 0, position 1");
    assertThat(r.err()).contains("warning: ").contains("32128 ids").contains("only 100 rows");
    assertThat(out).doesNotExist();

    Path jsonl = tmp.resolve("ids.jsonl");
    for (String bad : new String[] {"99999", "-7"}) {
      Files.writeString(jsonl, "{\"input_ids\": [5, 6, 1]}\n{\"input_ids\": [5, " + bad + ", 1]}\n");
      oneLineError(CliRunner.run("embed", "--model", fixture("sentence-t5-tiny"), "--input", jsonl.toString(),
          "--output", out.toString()), "token id " + bad + " at row 1, position 1");
      assertThat(out).doesNotExist();
    }
    for (String bad : new String[] {"1.5", "1e30", "9223372036854775808", "4294967297"}) {
      Files.writeString(jsonl, "{\"input_ids\": [5, " + bad + ", 1]}\n");
      String line = oneLineError(CliRunner.run("embed", "--model", fixture("sentence-t5-tiny"), "--input",
          jsonl.toString(), "--output", out.toString()), "line 1: input_ids[1]");
      assertThat(line).containsAnyOf(bad, "1E+30");
      assertThat(out).doesNotExist();
    }
  }
}
