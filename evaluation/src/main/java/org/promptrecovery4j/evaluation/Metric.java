package org.promptrecovery4j.evaluation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The LLM Prompt Recovery metric: mean sharpened cosine similarity (exponent 3) between the
 * sentence-t5 embeddings of predicted and true prompts. Texts that occur several times are embedded once.
 *
 * <pre>{@code
 * Metric metric = new Metric(new SentenceEmbedder(SentenceTransformer.load(dir), textEncoder, 32)::embed);
 * double score = metric.score(predicted, truth);
 * }</pre>
 */
public final class Metric {

  /** The exponent of the Kaggle competition. */
  public static final double KAGGLE_EXPONENT = 3.0;

  private final TextEmbedder embedder;
  private final double exponent;

  public Metric(TextEmbedder embedder) {
    this(embedder, KAGGLE_EXPONENT);
  }

  public Metric(TextEmbedder embedder, double exponent) {
    if (!(exponent > 0) || Double.isInfinite(exponent)) {
      throw new IllegalArgumentException("exponent must be a positive number, is " + exponent);
    }
    this.embedder = embedder;
    this.exponent = exponent;
  }

  public double exponent() {
    return exponent;
  }

  /** The mean score of {@code predicted[i]} against {@code truth[i]}. */
  public double score(List<String> predicted, List<String> truth) {
    return mean(rowScores(predicted, truth));
  }

  /** One score per pair, in order. */
  public double[] rowScores(List<String> predicted, List<String> truth) {
    if (predicted.size() != truth.size()) {
      throw new IllegalArgumentException(predicted.size() + " predictions for " + truth.size() + " true prompts");
    }
    Map<String, Integer> unique = new LinkedHashMap<>();
    for (List<String> list : List.of(predicted, truth)) {
      for (String s : list) {
        if (s == null) {
          throw new IllegalArgumentException("a prompt is missing (null)");
        }
        unique.putIfAbsent(s, unique.size());
      }
    }
    List<String> texts = new ArrayList<>(unique.keySet());
    float[][] emb = embedder.embed(texts);
    if (emb.length != texts.size()) {
      throw new IllegalStateException("the embedder returned " + emb.length + " rows for " + texts.size() + " texts");
    }
    Map<String, float[]> byText = new HashMap<>();
    for (int i = 0; i < texts.size(); i++) {
      byText.put(texts.get(i), emb[i]);
    }
    double[] out = new double[predicted.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = SharpenedCosine.score(byText.get(predicted.get(i)), byText.get(truth.get(i)), exponent);
    }
    return out;
  }

  /** Scores of embedding rows {@code predicted[i]} against {@code truth[i]} (the embeddings-level API). */
  public static double[] rowScores(float[][] predicted, float[][] truth, double exponent) {
    if (predicted.length != truth.length) {
      throw new IllegalArgumentException(predicted.length + " predicted embeddings for " + truth.length + " true ones");
    }
    double[] out = new double[predicted.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = SharpenedCosine.score(predicted[i], truth[i], exponent);
    }
    return out;
  }

  /** The mean score of one embedding (a constant answer) against every row of {@code truth}. */
  public static double constantAnswerScore(float[] answer, float[][] truth, double exponent) {
    double sum = 0;
    for (float[] t : truth) {
      sum += SharpenedCosine.score(answer, t, exponent);
    }
    return truth.length == 0 ? Double.NaN : sum / truth.length;
  }

  public static double mean(double[] scores) {
    if (scores.length == 0) {
      return Double.NaN;
    }
    double s = 0;
    for (double x : scores) {
      s += x;
    }
    return s / scores.length;
  }
}
