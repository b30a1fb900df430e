package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.evaluation.SharpenedCosine;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;
import org.promptrecovery4j.training.features.DebertaFeatures;
import org.promptrecovery4j.training.head.HeadTrainer;
import org.promptrecovery4j.training.head.RegressionHead;

/**
 * The regressor recoverer end to end on the tiny fixtures (a DeBERTa-v3 with 32 hidden units, a seeded head 128 →
 * 24, a sentence-t5 with 24-value embeddings), against the same steps done by hand.
 */
class RegressorRecovererTest {

  static final Path FIXTURES = Path.of(System.getProperty("pr4j.fixtures", "../fixtures")).toAbsolutePath();
  static final Path DEBERTA = FIXTURES.resolve("deberta-v3-tiny-features");
  static final Path ST5 = FIXTURES.resolve("sentence-t5-tiny-text");
  static final List<String> PROMPTS = List.of("Rewrite this as a poem.", "Make it formal.", "Turn it into a letter.",
      "Write it like a pirate.", "Summarize the text.", "Translate it into French.", "Make it funny.",
      "Rewrite the story for children.", "Use more emotion.", "Make it shorter and simpler.");

  @TempDir static Path dir;
  static List<KaggleRow> rows;
  static Path head;
  static Path bankFile;
  static float[][] predicted;
  static float[][] bankEmbeddings;
  static SentenceEmbedder st5;
  static DebertaFeatures features;
  static EmbeddedBank embeddedBank;

  /** A recoverer sharing the loaded DeBERTa (the public constructor, as a config would build it from parts). */
  static RegressorRecoverer recoverer(RegressorRecoverer.Settings settings) {
    return new RegressorRecoverer(features, head, st5, ST5, embeddedBank, settings);
  }

  @BeforeAll
  static void setUp() throws Exception {
    rows = KaggleCsv.read(DEBERTA.resolve("data.csv")).rows();
    head = Files.createDirectories(dir.resolve("head"));
    RegressionHead h = RegressionHead.initialize(RegressionHead.Config.of(128, 16, 24), 7);
    h.save(head.resolve(HeadTrainer.HEAD));
    bankFile = dir.resolve("bank.txt");
    Files.writeString(bankFile, String.join("\n", PROMPTS) + "\n");
    // the steps by hand
    features = DebertaFeatures.open(DEBERTA, 384);
    float[][] x = features.texts(rows.stream().map(KaggleRow::originalText).toList(),
        rows.stream().map(KaggleRow::rewrittenText).toList(), 3);
    predicted = HeadTrainer.predict(head, x, "features");
    st5 = SentenceEmbedder.load(ST5, 4);
    bankEmbeddings = st5.embed(PROMPTS);
    embeddedBank = EmbeddedBank.of("bank", PROMPTS, bankEmbeddings);
  }

  /** Bank rows by cosine to {@code q}, best first (double precision). */
  static List<Integer> ranking(float[] q) {
    List<Integer> order = new ArrayList<>();
    for (int j = 0; j < PROMPTS.size(); j++) {
      order.add(j);
    }
    order.sort((a, b) -> Double.compare(SharpenedCosine.cosine(q, bankEmbeddings[b]), SharpenedCosine.cosine(q, bankEmbeddings[a])));
    return order;
  }

  @Test
  void answersAreTheNearestBankPromptsOfThePredictedEmbeddings() throws Exception {
    try (RegressorRecoverer r = RegressorRecoverer.load(DEBERTA, head, ST5, bankFile.toString(),
        RegressorRecoverer.Settings.defaults().withTopK(2))) {
      assertThat(r.name()).isEqualTo("regressor");
      float[][] p = r.predictEmbeddings(rows);
      for (int i = 0; i < rows.size(); i++) {
        assertThat(p[i]).containsExactly(predicted[i], within(1e-5f));
      }
      List<String> answers = r.recoverAll(rows);
      assertThat(answers).hasSize(rows.size());
      for (int i = 0; i < rows.size(); i++) {
        List<Integer> rank = ranking(predicted[i]);
        assertThat(answers.get(i)).isEqualTo(PROMPTS.get(rank.get(0)) + " " + PROMPTS.get(rank.get(1)));
      }
      assertThat(r.recover(rows.get(2))).isEqualTo(answers.get(2));
      // a row's own prompt left out: the next one answers
      List<Integer> rank0 = ranking(predicted[0]);
      List<String> without = r.answers(new float[][] {predicted[0]}, List.of(List.of(PROMPTS.get(rank0.get(0)))));
      assertThat(without).containsExactly(PROMPTS.get(rank0.get(1)) + " " + PROMPTS.get(rank0.get(2)));
    }
  }

  @Test
  void aPrecomputedBankNeedsNoSentenceT5() throws Exception {
    Path json = dir.resolve("bank-embedded.json");
    EmbeddedBank.of("by hand", PROMPTS, bankEmbeddings).writeJson(json);
    try (RegressorRecoverer r = RegressorRecoverer.load(DEBERTA, head, null, json.toString(),
        RegressorRecoverer.Settings.defaults())) {
      List<String> answers = r.recoverAll(rows);
      for (int i = 0; i < rows.size(); i++) {
        assertThat(answers.get(i)).isEqualTo(PROMPTS.get(ranking(predicted[i]).get(0)));
      }
      assertThatThrownBy(() -> r.chooseTopK(rows, 2, true)).hasMessageContaining("give its folder");
    }
    assertThatThrownBy(() -> RegressorRecoverer.load(DEBERTA, head, null, bankFile.toString(),
        RegressorRecoverer.Settings.defaults())).hasMessageContaining("is a prompt list; embedding it needs the"
        + " sentence-t5 folder");
  }

  @Test
  void choosesKOnLabelledRows() throws Exception {
    try (RegressorRecoverer r = recoverer(RegressorRecoverer.Settings.defaults())) {
      TopKChoice.Result c = r.chooseTopK(rows, 3, true);
      assertThat(c.rows()).isEqualTo(rows.size());
      assertThat(c.scsByK()).hasSize(3);
      // k = 1 by hand: the nearest prompt other than the row's own, against the row's own prompt
      double scs1 = 0;
      double predictedScs = 0;
      for (int i = 0; i < rows.size(); i++) {
        String truth = rows.get(i).rewritePrompt().orElseThrow();
        float[] t = st5.embed(List.of(truth))[0];
        int best = ranking(predicted[i]).stream().filter(j -> !PROMPTS.get(j).equals(truth)).findFirst().orElseThrow();
        scs1 += SharpenedCosine.score(bankEmbeddings[best], t, 3);
        predictedScs += SharpenedCosine.score(predicted[i], t, 3);
      }
      assertThat(c.scsByK()[0]).isCloseTo(scs1 / rows.size(), within(1e-5));
      assertThat(c.predictedScs()).isCloseTo(predictedScs / rows.size(), within(1e-5));
      double max = Math.max(c.scsByK()[0], Math.max(c.scsByK()[1], c.scsByK()[2]));
      assertThat(c.scsByK()[c.bestK() - 1]).isEqualTo(max);
      assertThat(c.format()).contains("top 1 joined: SCS", "<- best");
    }
  }

  @Test
  void inversionRaisesTheCosineToThePrediction() throws Exception {
    RegressorRecoverer.Settings s = RegressorRecoverer.Settings.defaults()
        .withInversion(new RegressorRecoverer.Inversion(40, 4, 30, 12));
    try (RegressorRecoverer r = recoverer(s)) {
      String start = PROMPTS.get(ranking(predicted[0]).get(0));
      WordEditSearch.Result inv = r.invert(start, predicted[0]);
      assertThat(inv.startScore()).isCloseTo(SharpenedCosine.cosine(predicted[0], st5.embed(List.of(start))[0]),
          within(1e-5));
      assertThat(inv.score()).isGreaterThan(inv.startScore());
      assertThat(inv.score()).isCloseTo(SharpenedCosine.cosine(predicted[0], st5.embed(List.of(inv.text()))[0]),
          within(1e-5));
      assertThat(inv.evaluations()).isLessThanOrEqualTo(30);
      assertThat(r.invert(start, predicted[0])).isEqualTo(inv); // deterministic
      List<String> answers = r.recoverAll(rows.subList(0, 1));
      assertThat(answers).containsExactly(inv.text());
    }
  }

  @Test
  void aHeadOfAnotherWidthIsRefused() throws Exception {
    Path other = Files.createDirectories(dir.resolve("head16"));
    RegressionHead.initialize(RegressionHead.Config.of(128, 8, 16), 1).save(other.resolve(HeadTrainer.HEAD));
    try (RegressorRecoverer r = new RegressorRecoverer(features, other, st5, ST5, embeddedBank,
        RegressorRecoverer.Settings.defaults())) {
      assertThatThrownBy(() -> r.recoverAll(rows)).hasMessageContaining("predicts 16 values, the bank")
          .hasMessageContaining("holds 24-value embeddings");
    }
    assertThatThrownBy(() -> RegressorRecoverer.load(DEBERTA, dir.resolve("nothing"), ST5, bankFile.toString(),
        RegressorRecoverer.Settings.defaults())).hasMessageContaining("nothing: no such head");
  }
}
