package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.promptrecovery4j.evaluation.Metric;
import org.promptrecovery4j.models.builtin.BuiltinModels;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;

/** The mean prompt of a small prompt set under the built-in all-MiniLM-L6-v2 (real trained weights). */
class MeanPromptSearchTest {

  static final List<String> PROMPTS = List.of("Rewrite this text as a poem.", "Make the text more formal.",
      "Rewrite the text as a letter to a friend.", "Turn this into a short story for children.",
      "Make it sound like a pirate wrote it.", "Rewrite the text in a humorous tone.",
      "Summarize the text in one sentence.", "Rewrite this as a news report.");

  @Test
  void findsATextThatBeatsEveryPromptOfTheSetAsAConstantAnswer() throws Exception {
    Path dir = BuiltinModels.folder(BuiltinModels.ALL_MINILM_L6_V2);
    SentenceEmbedder enc = SentenceEmbedder.load(dir, 64);
    PromptBank set = PromptBank.fromLines("eight", PROMPTS);
    MeanPromptSearch.Settings s = new MeanPromptSearch.Settings(20, 10, 8, 150, 2000, 0);
    MeanPromptSearch.Result r = MeanPromptSearch.run(enc, dir, set, null, null, s, null);
    System.out.print(r.format());

    float[][] e = enc.embed(PROMPTS);
    double[] single = WordEditSearch.meanSharpenedCosine(e, Metric.KAGGLE_EXPONENT).scores(e);
    double bestSingle = java.util.Arrays.stream(single).max().orElseThrow();
    assertThat(r.bestSingleScore()).isCloseTo(bestSingle, within(1e-5));
    assertThat(r.bestSinglePrompt()).isEqualTo("Rewrite the text in a humorous tone.");
    assertThat(r.score()).isGreaterThan(bestSingle);
    assertThat(r.text()).isEqualTo("Rewrite the text in a a humorous tone."); // deterministic
    assertThat(r.score()).isCloseTo(0.2346, within(1e-4));
    assertThat(r.score()).isCloseTo(Metric.constantAnswerScore(enc.embed(List.of(r.text()))[0], e, 3), within(1e-5));
    assertThat(r.text().split(" ")).hasSizeLessThanOrEqualTo(10);
    assertThat(r.evaluations()).isLessThanOrEqualTo(300);

  }
}
