package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.recovery.RewritePlan;

class RewriteCommandTest {

  @Test
  void writesSeededRandomPairsAndSaysSoOnAgain(@TempDir Path dir) throws Exception {
    Path texts = dir.resolve("texts.csv");
    Csv.write(texts, List.of("original_text"), List.of(List.of("The cat sat."), List.of("Rain tomorrow."),
        List.of("We won the game.")));
    Path prompts = dir.resolve("prompts.txt");
    Files.writeString(prompts, "Make it formal.\nMake it a poem.\nTranslate into French.\n");
    Path out = dir.resolve("rewrites.csv");
    String[] args = {"rewrite", "--model", CliRunner.FIXTURES.resolve("tiny-mistral-text").toString(), "--texts",
        texts.toString(), "--prompts", prompts.toString(), "--output", out.toString(), "--pairs", "4", "--seed", "3",
        "--max-new-tokens", "6", "--batch-size", "3"};
    CliRunner r = CliRunner.run(args);
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.err()).contains("wrote 4 rows to " + out);
    Csv.Table t = Csv.read(out);
    assertThat(t.header()).containsExactly("id", "original_text", "rewritten_text", "rewrite_prompt");
    RewritePlan plan = RewritePlan.random(3, 3, 4, 3);
    for (int p = 0; p < 4; p++) {
      assertThat(t.rows().get(p).get(0)).isEqualTo(plan.get(p).id());
    }
    r = CliRunner.run(args);
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.err()).contains("already holds the 4 rows of this plan: nothing to do")
        .contains("wrote 4 rows to " + out + " (4 from an earlier run)");
  }

  @Test
  void aBadInputIsOneLineAndNothingIsWritten(@TempDir Path dir) throws Exception {
    Path texts = dir.resolve("texts.csv");
    Files.writeString(texts, "text\nhello\n");
    Path out = dir.resolve("rewrites.csv");
    CliRunner r = CliRunner.run("rewrite", "--model", CliRunner.FIXTURES.resolve("tiny-mistral-text").toString(),
        "--texts", texts.toString(), "--prompts", texts.toString(), "--output", out.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err().strip()).startsWith("error: " + texts).contains("original_text");
    CliRunner conflict = CliRunner.run("rewrite", "--model", CliRunner.FIXTURES.resolve("tiny-mistral-text").toString(),
        "--texts", texts.toString(), "--prompts", texts.toString(), "--output", out.toString(), "--compute", "bf16",
        "--keep-dtype");
    assertThat(conflict.exitCode()).isEqualTo(1);
    assertThat(conflict.err().strip()).isEqualTo("error: --keep-dtype (the old spelling of --compute as-stored)"
        + " conflicts with --compute bf16: give only --compute");
    assertThat(out).doesNotExist();
  }
}
