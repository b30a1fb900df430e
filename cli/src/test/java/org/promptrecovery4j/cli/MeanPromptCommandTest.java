package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeanPromptCommandTest {

  static final Path MODEL = CliRunner.FIXTURES.resolve("sentence-t5-tiny-text");

  @Test
  void writesTheFoundTextAndPrintsItsScoreBesideTheBestSinglePrompt(@TempDir Path dir) throws Exception {
    Path prompts = dir.resolve("prompts.txt");
    Files.writeString(prompts, "Rewrite this as a poem.\nMake it formal.\nTurn it into a letter.\nMake it a poem.\n");
    Path out = dir.resolve("mean.txt");
    CliRunner r = CliRunner.run("mean-prompt", "--model", MODEL.toString(), "--prompts", prompts.toString(),
        "--output", out.toString(), "--max-words", "4", "--vocabulary-size", "8", "--max-evaluations", "40",
        "--batch-size", "16");
    assertThat(r.exitCode()).as(r.err()).isZero();
    String text = Files.readString(out);
    assertThat(text).endsWith("\n").doesNotContain("\n\n");
    assertThat(r.out()).contains("found:", "mean SCS against the 4 prompts: " + text.strip(), "best single prompt:",
        "(objective over 4 prompts, 8 vocabulary words");
    assertThat(r.err()).contains("mean-prompt: 4 prompts (objective over 4), 8 words, up to 4 words a text",
        "wrote the text to " + out);
  }

  @Test
  void aMissingPromptFileIsOneLineAndNothingIsWritten(@TempDir Path dir) {
    Path out = dir.resolve("mean.txt");
    CliRunner r = CliRunner.run("mean-prompt", "--model", MODEL.toString(), "--prompts",
        dir.resolve("none.txt").toString(), "--output", out.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err().strip()).isEqualTo("error: " + dir.resolve("none.txt") + ": no such prompt bank file");
    assertThat(out).doesNotExist();
  }
}
