package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.promptrecovery4j.evaluation.TextEmbedder;

/** The word-edit search on a transparent encoder: a text's embedding is the sum of fixed random word vectors. */
class WordEditSearchTest {

  /** Bag-of-words vectors (16 dims, seeded per word); records every text it embeds. */
  static final class BagOfWords implements TextEmbedder {
    final List<String> embedded = new ArrayList<>();

    static float[] word(String w) {
      Random r = new Random(w.hashCode());
      float[] v = new float[16];
      for (int k = 0; k < v.length; k++) {
        v[k] = (float) r.nextGaussian();
      }
      return v;
    }

    float[] one(String text) {
      float[] e = new float[16];
      for (String w : text.split(" ")) {
        float[] v = word(w);
        for (int k = 0; k < e.length; k++) {
          e[k] += v[k];
        }
      }
      return e;
    }

    @Override
    public float[][] embed(List<String> texts) {
      embedded.addAll(texts);
      return texts.stream().map(this::one).toArray(float[][]::new);
    }
  }

  static final List<String> VOCABULARY = List.of("make", "it", "a", "poem", "write", "letter", "formal", "the", "text");

  static WordEditSearch search(BagOfWords enc, int maxEvaluations) {
    return new WordEditSearch(enc, VOCABULARY, null, new WordEditSearch.Settings(8, 0, maxEvaluations, null, 1e-9));
  }

  @Test
  void editsAnAnswerIntoTheTargetText() {
    BagOfWords enc = new BagOfWords();
    WordEditSearch s = search(enc, 0);
    enc.embedded.clear();
    float[] target = enc.one("make it a poem");
    WordEditSearch.Result r = s.improve("write a letter", WordEditSearch.cosineTo(target), null, "test");
    assertThat(r.score()).isCloseTo(1.0, within(1e-6));
    assertThat(new HashSet<>(Arrays.asList(r.text().split(" ")))).containsExactlyInAnyOrder("make", "it", "a", "poem");
    assertThat(r.startScore()).isLessThan(0.7);
    assertThat(r.edits()).isEqualTo(3); // the fewest: two replacements and one insertion
    assertThat(r.budgetSpent()).isFalse();
    // every text embedded once: the evaluations are exactly the distinct texts
    assertThat(enc.embedded).doesNotHaveDuplicates().hasSize(r.evaluations());
    // deterministic
    WordEditSearch.Result again = search(new BagOfWords(), 0).improve("write a letter", WordEditSearch.cosineTo(target),
        null, "test");
    assertThat(again).isEqualTo(r);
  }

  @Test
  void stopsAtTheEvaluationBudget() {
    BagOfWords enc = new BagOfWords();
    WordEditSearch s = search(enc, 7);
    enc.embedded.clear();
    WordEditSearch.Result r = s.improve("write a letter", WordEditSearch.cosineTo(enc.one("make it a poem")), null, "t");
    assertThat(r.evaluations()).isEqualTo(7);
    assertThat(enc.embedded).hasSize(7);
    assertThat(r.budgetSpent()).isTrue();
    assertThat(r.score()).isGreaterThanOrEqualTo(r.startScore());
  }

  @Test
  void buildsATextThatBeatsEverySinglePromptOnAverage() {
    BagOfWords enc = new BagOfWords();
    List<String> prompts = List.of("make it a poem", "make it formal", "write a letter", "make the text formal",
        "write it as a poem");
    float[][] targets = enc.embed(prompts);
    WordEditSearch.Objective o = WordEditSearch.meanSharpenedCosine(targets, 3);
    double[] single = o.scores(targets);
    WordEditSearch.Result r = search(enc, 0).build(o, null, "test");
    assertThat(r.score()).isGreaterThan(Arrays.stream(single).max().orElseThrow());
    assertThat(o.scores(new float[][] {enc.one(r.text())})[0]).isCloseTo(r.score(), within(1e-6));
    assertThat(search(new BagOfWords(), 0).build(o, null, "test")).isEqualTo(r);
  }

  @Test
  void meanSharpenedCosineIsTheMeanOfCubes() {
    float[][] t = {{1, 0}, {0, 1}, {-1, 0}};
    double[] s = WordEditSearch.meanSharpenedCosine(t, 3).scores(new float[][] {{2, 0}, {1, 1}});
    assertThat(s[0]).isCloseTo((1 + 0 - 1) / 3.0, within(1e-7));
    double c = Math.sqrt(0.5);
    assertThat(s[1]).isCloseTo((c * c * c * 2 - c * c * c) / 3.0, within(1e-6));
  }

  @Test
  void refusesABadVocabulary() {
    assertThatThrownBy(() -> new WordEditSearch(new BagOfWords(), List.of(), null, WordEditSearch.Settings.defaults()))
        .hasMessageContaining("vocabulary is empty");
    assertThatThrownBy(() -> new WordEditSearch(new BagOfWords(), List.of("a", " b"), null,
        WordEditSearch.Settings.defaults())).hasMessageContaining("\" b\" is blank or has spaces");
  }

  @Test
  void vocabularyIsTheMostFrequentWordsInTheirCommonSpelling() {
    List<String> texts = List.of("**Rewrite** the text.", "rewrite THE father's 19th-century song", "Rewrite it, please",
        "Make it a poem");
    assertThat(WordVocabulary.words(texts.get(1))).containsExactly("rewrite", "THE", "father's", "19th-century", "song");
    // rewrite: 3 prompts (Rewrite twice, rewrite once); it, the: 2; then alphabetical
    assertThat(WordVocabulary.mostFrequent(texts, 5)).containsExactly("Rewrite", "it", "the", "19th-century", "a");
    Set<String> all = new HashSet<>(WordVocabulary.mostFrequent(texts, 100));
    assertThat(all).hasSize(11);
  }
}
