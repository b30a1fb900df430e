package org.promptrecovery4j.recovery;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.promptrecovery4j.evaluation.SharpenedCosine;
import org.promptrecovery4j.evaluation.TextEmbedder;

/**
 * Chooses how many retrieved prompts to join into one answer, on labelled rows: for k = 1..maxK the answer of a row
 * is its top k bank prompts joined by the separator, embedded by the metric's encoder (sentence-t5) and scored
 * against the row's true prompt (cos³); the k with the highest mean wins (ties: the smaller k).
 *
 * <p>Joining prompts moves the answer's embedding towards the mean of theirs, which hedges when the prediction is
 * unsure: it helps when the true prompt is not in the bank, and costs when it is. So choose k on rows whose true
 * prompts are <em>not</em> in the bank ({@code excludeTruth}: each row's own prompt is left out of its candidates),
 * as on the hidden test set.
 */
public final class TopKChoice {

  /**
   * The choice: the best k, the mean SCS of each k (index k − 1), and the mean cos³ of the predicted embeddings
   * themselves against the truth (what the regressor scores before retrieval).
   */
  public record Result(int bestK, double[] scsByK, double predictedScs, int rows) {
    public String format() {
      StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
          "%d rows; predicted embeddings themselves: SCS %.4f%n", rows, predictedScs));
      for (int k = 1; k <= scsByK.length; k++) {
        s.append(String.format(Locale.ROOT, "top %d joined: SCS %.4f%s%n", k, scsByK[k - 1], k == bestK ? "  <- best" : ""));
      }
      return s.toString();
    }
  }

  private TopKChoice() {}

  /**
   * Scores k = 1..maxK for rows with these predicted embeddings and true prompts (see the class comment);
   * {@code encoder} embeds answers and truths into the space of {@code predicted} and of the retrieval's bank.
   */
  public static Result choose(float[][] predicted, List<String> truths, EmbeddingRetrieval retrieval,
      TextEmbedder encoder, int maxK, String separator, boolean excludeTruth) {
    if (predicted.length != truths.size() || predicted.length == 0) {
      throw new IllegalArgumentException(predicted.length + " predicted embeddings for " + truths.size()
          + " true prompts (need the same number, at least 1)");
    }
    if (maxK < 1 || maxK > 100) {
      throw new IllegalArgumentException("max k must be in [1, 100], is " + maxK);
    }
    List<Collection<String>> excluded = new ArrayList<>();
    for (String t : truths) {
      excluded.add(excludeTruth ? List.of(t) : List.of());
    }
    List<List<EmbeddingRetrieval.Hit>> hits = retrieval.nearestAll(predicted, maxK, excluded);
    Map<String, Integer> unique = new LinkedHashMap<>();
    truths.forEach(t -> unique.putIfAbsent(t, unique.size()));
    String[][] answers = new String[maxK][predicted.length];
    for (int k = 1; k <= maxK; k++) {
      for (int i = 0; i < predicted.length; i++) {
        answers[k - 1][i] = EmbeddingRetrieval.join(hits.get(i), k, separator);
        unique.putIfAbsent(answers[k - 1][i], unique.size());
      }
    }
    float[][] e = encoder.embed(new ArrayList<>(unique.keySet()));
    double[] scs = new double[maxK];
    double predictedScs = 0;
    for (int i = 0; i < predicted.length; i++) {
      float[] truth = e[unique.get(truths.get(i))];
      predictedScs += SharpenedCosine.score(predicted[i], truth, 3);
      for (int k = 1; k <= maxK; k++) {
        scs[k - 1] += SharpenedCosine.score(e[unique.get(answers[k - 1][i])], truth, 3);
      }
    }
    int best = 1;
    for (int k = 1; k <= maxK; k++) {
      scs[k - 1] /= predicted.length;
      if (scs[k - 1] > scs[best - 1]) {
        best = k;
      }
    }
    return new Result(best, scs, predictedScs / predicted.length, predicted.length);
  }
}
