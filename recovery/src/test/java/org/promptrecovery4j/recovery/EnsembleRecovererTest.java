package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class EnsembleRecovererTest {

  static PromptRecoverer fixed(String name, String... answers) {
    return new PromptRecoverer() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public List<String> recoverAll(List<KaggleRow> rows) {
        return Arrays.asList(answers).subList(0, rows.size());
      }
    };
  }

  @Test
  void joinsInOrderDropsRepeatsAndBlanksAppendsAndFallsBack() {
    List<KaggleRow> rows = List.of(ZeroShotRecovererTest.row("a", "x", "y"), ZeroShotRecovererTest.row("b", "x", "y"),
        ZeroShotRecovererTest.row("c", "x", "y"));
    EnsembleRecoverer e = new EnsembleRecoverer(List.of(
        fixed("one", "Make it formal.", "  ", ""),
        fixed("two", " make it FORMAL. ", "Translate into French.", " \u00a0\u2003")),
        new EnsembleRecoverer.Settings(" | ", true, "Improve the text.", "Rewrite."));
    List<EnsembleRecoverer.Detailed> d = e.recoverDetailed(rows);
    assertThat(d.get(0).combined()).isEqualTo("Make it formal. | Improve the text.");
    assertThat(d.get(0).members()).containsExactly("Make it formal.", " make it FORMAL. ");
    assertThat(d.get(1).combined()).isEqualTo("Translate into French. | Improve the text.");
    assertThat(d.get(2).combined()).isEqualTo("Improve the text.");
    EnsembleRecoverer bare = new EnsembleRecoverer(List.of(fixed("one", "", "A."), fixed("two", " ", "A.")),
        new EnsembleRecoverer.Settings(" ", false, "", "Rewrite."));
    assertThat(bare.recoverAll(rows.subList(0, 2))).containsExactly("Rewrite.", "A. A.");
    assertThatThrownBy(() -> new EnsembleRecoverer.Settings(" ", true, "", " \t")).hasMessageContaining("fallback");
    assertThatThrownBy(() -> new EnsembleRecoverer(List.of(), EnsembleRecoverer.Settings.defaults()))
        .hasMessageContaining("no recoverer");
  }
}
