package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Nearest examples on toy embeddings whose cosines are known by construction. */
class NearestExamplesRecovererTest {

  static final Map<String, float[]> VEC = Map.of(
      "o1", new float[] {1, 0, 0}, "r1", new float[] {1, 1, 0},   // change d = (0, 1, 0)
      "o2", new float[] {0, 0, 1}, "r2", new float[] {0, 1, 1},   // the same change from another original
      "o3", new float[] {1, 0, 0}, "r3", new float[] {1, 0, 0.2f}, // hardly changed: r close to r1's original
      "qo", new float[] {0, 0, 1}, "qr", new float[] {0.1f, 1, 1});

  static float[][] embed(List<String> texts) {
    return texts.stream().map(VEC::get).toArray(float[][]::new);
  }

  static double[] unit(float[] v) {
    double n = Math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    return new double[] {v[0] / n, v[1] / n, v[2] / n};
  }

  static float[] change(String o, String r) {
    double[] a = unit(VEC.get(r));
    double[] b = unit(VEC.get(o));
    return new float[] {(float) (a[0] - b[0]), (float) (a[1] - b[1]), (float) (a[2] - b[2])};
  }

  static double cos(float[] a, float[] b) {
    double[] x = unit(a);
    double[] y = unit(b);
    return x[0] * y[0] + x[1] * y[1] + x[2] * y[2];
  }

  static KaggleRow row(String id, String o, String r, String prompt) {
    return new KaggleRow(id, o, r, Optional.ofNullable(prompt), Map.of(), 2);
  }

  static final KaggleTable EXAMPLES = new KaggleTable(Path.of("toy.csv"),
      List.of("id", "original_text", "rewritten_text", "rewrite_prompt"), List.of(
      row("e1", "o1", "r1", "Make it cheerful."), row("e2", "o2", "r2", "Make it cheerful."),
      row("e3", "o3", "r3", "Make it formal.")));

  @Test
  void theNearestByRewrittenTextAndChangeAnswersAndTheRowsOwnPromptCanBeExcluded() {
    NearestExamplesRecoverer n = new NearestExamplesRecoverer(NearestExamplesRecovererTest::embed, EXAMPLES,
        NearestExamplesRecoverer.Settings.defaults());
    KaggleRow q = row("q", "qo", "qr", "Make it cheerful.");
    assertThat(n.recover(q)).isEqualTo("Make it cheerful.");
    ExampleBank.Neighbours nb = n.bank().neighbours(List.of(q), 3, false).get(0);
    assertThat(nb.rows()).containsExactly(1, 0, 2); // e2 (same original and change), e1 (same change), e3
    // cos(qr, r2) + cos(d_q, d_2), d = unit(unit(r) - unit(o))
    double want = cos(VEC.get("qr"), VEC.get("r2")) + cos(change("qo", "qr"), change("o2", "r2"));
    assertThat(nb.similarities()[0]).isCloseTo(want, org.assertj.core.data.Offset.offset(1e-6));
    assertThat(want).isCloseTo(1.99327, org.assertj.core.data.Offset.offset(1e-5));
    n.excludeTruePrompts(true);
    assertThat(n.recover(q)).isEqualTo("Make it formal.");
    // leave-one-out: a row of the bank never answers itself
    NearestExamplesRecoverer loo = new NearestExamplesRecoverer(NearestExamplesRecovererTest::embed, EXAMPLES,
        new NearestExamplesRecoverer.Settings(1, 1, 0, 0));
    assertThat(loo.recoverAll(EXAMPLES.rows())).containsExactly("Make it formal.", "Make it cheerful.", "Make it cheerful.");
  }

  @Test
  void neighboursVoteWithTheirSimilarities() {
    NearestExamplesRecoverer n = new NearestExamplesRecoverer(NearestExamplesRecovererTest::embed, EXAMPLES,
        new NearestExamplesRecoverer.Settings(3, 1, 0, 0));
    // by rewritten text alone, the query's nearest is e2, then e1, then e3: two cheerful votes win
    assertThat(n.recover(row("q", "qo", "qr", null))).isEqualTo("Make it cheerful.");
  }
}
