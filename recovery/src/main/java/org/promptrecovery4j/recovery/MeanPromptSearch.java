package org.promptrecovery4j.recovery;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.promptrecovery4j.evaluation.Metric;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;

/**
 * The "mean prompt": one text whose embedding scores the highest mean sharpened cosine (cos³) against a set of
 * prompts — the best constant answer, a fallback and a component to append to other answers. Two searches over a
 * vocabulary (by default the set's most frequent words), every candidate embedded by the real encoder, and the
 * better one wins: {@link WordEditSearch#build} (greedy words from nothing, then local edits) and
 * {@link WordEditSearch#improve} (local edits) of the best single prompt of the set; or, given a start text, only
 * the local edits of it. Each search has its own evaluation budget. A start longer than {@code maxWords} words is
 * edited and shortened, never lengthened.
 *
 * <p>Cost: each candidate is one encoder pass; candidates go through in batches. For a large set the objective uses
 * a seeded sample of {@code sample} prompts (the search's cost does not depend on it much, the final score is
 * always measured against the whole set). The best single prompt (the baseline the found text should beat) is
 * searched among the sample and scored against the whole set too.
 */
public final class MeanPromptSearch {

  /**
   * Limits: the {@code vocabularySize} most frequent words (or of the word list), texts of at most {@code maxWords}
   * words, {@code shortlist} words tried per position and edit round (0 = all), at most {@code maxEvaluations} texts
   * embedded (0 = no limit), the objective over at most {@code sample} prompts drawn with {@code seed}.
   */
  public record Settings(int vocabularySize, int maxWords, int shortlist, int maxEvaluations, int sample, long seed) {
    public Settings {
      if (vocabularySize < 1 || maxWords < 1 || maxWords > 256 || shortlist < 0 || maxEvaluations < 0 || sample < 1) {
        throw new IllegalArgumentException("mean-prompt: vocabulary size ≥ 1, max words in [1, 256], shortlist ≥ 0,"
            + " max evaluations ≥ 0, sample ≥ 1; are " + vocabularySize + ", " + maxWords + ", " + shortlist + ", "
            + maxEvaluations + ", " + sample);
      }
    }

    public static Settings defaults() {
      return new Settings(200, 32, 24, 0, 2000, 0);
    }
  }

  /**
   * The found text and its mean cos³ against all {@code prompts}; the best single prompt of the set as a constant
   * answer and its score (against all the prompts, itself included); the score of the normalised mean embedding
   * (a reference: close to the best any single embedding can do); the vocabulary size, the prompts the objective
   * used, the texts embedded.
   */
  public record Result(String text, double score, int prompts, String bestSinglePrompt, double bestSingleScore,
      double meanEmbeddingScore, int vocabulary, int objectivePrompts, int evaluations) {
    public String format() {
      return String.format(Locale.ROOT, "found:                %.4f mean SCS against the %d prompts: %s%n"
          + "best single prompt:   %.4f (\"%s\")%n"
          + "mean embedding:       %.4f (the normalised mean of the prompts' embeddings; no text has it)%n"
          + "(objective over %d prompts, %d vocabulary words, %d texts embedded)%n", score, prompts, text,
          bestSingleScore, bestSinglePrompt, meanEmbeddingScore, objectivePrompts, vocabulary, evaluations);
    }
  }

  private MeanPromptSearch() {}

  /**
   * Searches the mean prompt of {@code prompts} under {@code encoder} (loaded from {@code encoderDir}: the prompts'
   * and the words' embeddings are cached, {@link EmbeddedBank#embed}); {@code vocabulary} null: the prompts' most
   * frequent words; {@code start} null: the two searches of the class comment, else only the local edits of
   * {@code start}; progress lines to {@code log} (null: quiet).
   */
  public static Result run(SentenceEmbedder encoder, Path encoderDir, PromptBank prompts, List<String> vocabulary,
      String start, Settings settings, PrintStream log) throws IOException {
    EmbeddedBank all = EmbeddedBank.embed(prompts, encoderDir, encoder);
    int[] rows = sample(all.size(), settings.sample(), settings.seed());
    float[][] targets = new float[rows.length][];
    for (int i = 0; i < rows.length; i++) {
      targets[i] = all.embedding(rows[i]);
    }
    List<String> words = vocabulary != null
        ? vocabulary.subList(0, Math.min(vocabulary.size(), settings.vocabularySize()))
        : WordVocabulary.mostFrequent(prompts.prompts(), settings.vocabularySize());
    PromptBank wordBank = PromptBank.fromLines("the " + words.size() + " words of the mean-prompt vocabulary", words);
    float[][] wordEmbeddings = EmbeddedBank.embed(wordBank, encoderDir, encoder).embeddings();
    if (log != null) {
      log.printf(Locale.ROOT, "mean-prompt: %d prompts (objective over %d), %d words, up to %d words a text%n",
          all.size(), targets.length, wordBank.size(), settings.maxWords());
    }
    WordEditSearch search = new WordEditSearch(encoder::embed, wordBank.prompts(), wordEmbeddings,
        new WordEditSearch.Settings(settings.maxWords(), settings.shortlist(), settings.maxEvaluations(), null, 1e-6));
    WordEditSearch.Objective objective = WordEditSearch.meanSharpenedCosine(targets, Metric.KAGGLE_EXPONENT);
    // the best single prompt of the sample as a constant answer (scored against the sample, itself included)
    double[] single = objective.scores(targets);
    int best = 0;
    for (int i = 1; i < single.length; i++) {
      if (single[i] > single[best]) {
        best = i;
      }
    }
    WordEditSearch.Result found;
    int evaluations;
    if (start != null) {
      found = search.improve(start, objective, log, "mean-prompt");
      evaluations = found.evaluations();
    } else {
      WordEditSearch.Result built = search.build(objective, log, "mean-prompt (greedy)");
      WordEditSearch.Result edited = search.improve(all.prompt(rows[best]), objective, log,
          "mean-prompt (from the best single prompt)");
      found = edited.score() > built.score() ? edited : built;
      evaluations = built.evaluations() + edited.evaluations();
    }

    float[] mean = new float[all.dimension()];
    for (float[] e : EmbeddingRetrieval.unitRows(all.embeddings())) {
      for (int k = 0; k < mean.length; k++) {
        mean[k] += e[k];
      }
    }
    double[] finalScores = WordEditSearch.meanSharpenedCosine(all.embeddings(), Metric.KAGGLE_EXPONENT)
        .scores(new float[][] {encoder.embed(List.of(found.text()))[0], targets[best], mean});
    return new Result(found.text(), finalScores[0], all.size(), all.prompt(rows[best]), finalScores[1],
        finalScores[2], wordBank.size(), targets.length, evaluations);
  }

  /** {@code size} rows, or {@code max} of them drawn without replacement with {@code seed}, in row order. */
  static int[] sample(int size, int max, long seed) {
    if (size <= max) {
      return java.util.stream.IntStream.range(0, size).toArray();
    }
    List<Integer> all = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      all.add(i);
    }
    java.util.Collections.shuffle(all, new Random(seed));
    return all.subList(0, max).stream().mapToInt(Integer::intValue).sorted().toArray();
  }
}
