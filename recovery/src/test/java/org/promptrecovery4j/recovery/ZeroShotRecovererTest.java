package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The built-in zero-shot recoverer on hand-written rows whose rewrite is unmistakable. */
class ZeroShotRecovererTest {

  private static ZeroShotRecoverer zeroShot;

  @BeforeAll
  static void load() {
    zeroShot = ZeroShotRecoverer.builtin();
  }

  @AfterAll
  static void close() {
    zeroShot.close();
  }

  static KaggleRow row(String id, String original, String rewritten) {
    return new KaggleRow(id, original, rewritten, Optional.empty(), Map.of(), 2);
  }

  @Test
  void theBuiltinBankIsDistinctAndLarge() {
    PromptBank b = PromptBank.builtin();
    assertThat(b.size()).isGreaterThan(300);
    assertThat(b.prompts()).doesNotHaveDuplicates().allSatisfy(p -> assertThat(p).isNotBlank().isEqualTo(p.strip()));
  }

  @Test
  void findsWhatTheRewriteAdded() {
    List<KaggleRow> rows = List.of(
        row("pirate", "The meeting has been moved to Thursday at noon. Please bring your reports.",
            "Ahoy, me hearties! The meetin' be moved to Thursday at high noon, arr! Bring yer reports or walk the plank,"
                + " ye scurvy pirates!"),
        row("french", "The weather is nice today and we are going to the beach.",
            "Il fait beau aujourd'hui et nous allons à la plage."),
        row("fairy", "The cat sat on the mat all afternoon.", "Once upon a time, in a faraway kingdom, there lived a cat"
            + " who sat upon a magical mat all afternoon, and they lived happily ever after."));
    List<String> answers = zeroShot.recoverAll(rows);
    assertThat(answers).hasSize(3);
    assertThat(answers.get(0)).containsIgnoringCase("pirate");
    assertThat(answers.get(1)).containsIgnoringCase("French");
    assertThat(answers.get(2)).containsIgnoringCase("fairy");
    assertThat(zeroShot.recover(rows.get(1))).isEqualTo(answers.get(1));
    // top 2 of the bank joined by a space
    assertThat(answers.get(0).split("\\. ")).hasSize(2);
  }
}
