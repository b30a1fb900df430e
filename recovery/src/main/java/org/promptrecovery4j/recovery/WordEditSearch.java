package org.promptrecovery4j.recovery;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.evaluation.TextEmbedder;

/**
 * A text found by word edits so that its sentence embedding scores high under an {@link Objective}: the cosine to
 * one target embedding (the inversion of a predicted embedding, {@link #cosineTo}) or the mean sharpened cosine
 * against a set of prompts (the "mean prompt", {@link #meanSharpenedCosine}). Texts are words joined by single
 * spaces; every candidate is embedded by the real encoder (in batches) and scored exactly.
 *
 * <ul>
 *   <li>{@link #build}: greedy, from nothing: the best single word (scored from the vocabulary's embeddings), then
 *       append the vocabulary word that scores best while the score rises (at most {@code maxWords} words), then
 *       the local edits of {@link #improve}.
 *   <li>{@link #improve}: local search: each round lists every deletion, every swap of neighbours, and replacing
 *       each word by / inserting at each position each of the {@code shortlist} vocabulary words that point most
 *       along the objective's ascent direction from the current embedding (all words when the vocabulary is that
 *       small; best aligned words first), scores them in chunks of {@value #CHUNK} and keeps the best candidate of
 *       the first chunk that raises the score by more than {@code minGain} (so a round usually costs one chunk, and
 *       a full pass over the neighbourhood only proves that nothing helps); until no candidate helps or the budget
 *       is spent.
 * </ul>
 *
 * <p>Deterministic: candidates are generated in a fixed order and ties keep the first; the evaluation budget
 * ({@code maxEvaluations}, embedded texts) ends a search at the same point every run. A time limit, when set, also
 * ends it (then where it stops depends on the machine). A text evaluated once is not embedded again.
 */
public final class WordEditSearch {

  /** What a search maximises. */
  public interface Objective {
    /** The score of each embedding (higher is better). */
    double[] scores(float[][] embeddings);

    /** A direction in embedding space along which the score rises from {@code current} (to shortlist words). */
    float[] ascent(float[] current);
  }

  /**
   * The search's limits: at most {@code maxWords} words; {@code shortlist} vocabulary words tried per position and
   * round (0 = all); {@code maxEvaluations} texts embedded per search (0 = no limit); {@code timeLimit} (null = none);
   * a change is kept only if it raises the score by more than {@code minGain}.
   */
  public record Settings(int maxWords, int shortlist, int maxEvaluations, Duration timeLimit, double minGain) {
    public Settings {
      if (maxWords < 1 || maxWords > 256) {
        throw new IllegalArgumentException("max words must be in [1, 256], is " + maxWords);
      }
      if (shortlist < 0 || maxEvaluations < 0 || !(minGain >= 0)) {
        throw new IllegalArgumentException("shortlist, max evaluations and min gain must not be negative, are "
            + shortlist + ", " + maxEvaluations + ", " + minGain);
      }
    }

    public static Settings defaults() {
      return new Settings(24, 24, 0, null, 1e-6);
    }

    public Settings withMaxEvaluations(int n) {
      return new Settings(maxWords, shortlist, n, timeLimit, minGain);
    }
  }

  /**
   * What a search found: the text and its score; the score it started from (NaN for {@link #build}), the texts
   * embedded, the edits kept and whether the budget (evaluations or time) ended it.
   */
  public record Result(String text, double score, double startScore, int evaluations, int edits, boolean budgetSpent) {}

  /** Candidates scored per embedding call; a local round stops at the first chunk that holds an improvement. */
  static final int CHUNK = 128;

  private final TextEmbedder embedder;
  private final List<String> vocabulary;
  private final float[][] unitWords;
  private final Settings settings;

  /**
   * A search over {@code vocabulary}; {@code vocabularyEmbeddings} are the words' embeddings under the same
   * {@code embedder} (null: embedded here).
   */
  public WordEditSearch(TextEmbedder embedder, List<String> vocabulary, float[][] vocabularyEmbeddings,
      Settings settings) {
    if (vocabulary.isEmpty()) {
      throw new IllegalArgumentException("the search vocabulary is empty");
    }
    for (String w : vocabulary) {
      if (w.isBlank() || !w.equals(w.strip())) {
        throw new IllegalArgumentException("vocabulary word \"" + w + "\" is blank or has spaces around it");
      }
    }
    float[][] e = vocabularyEmbeddings != null ? vocabularyEmbeddings : embedder.embed(vocabulary);
    if (e.length != vocabulary.size()) {
      throw new IllegalArgumentException(vocabulary.size() + " vocabulary words but " + e.length + " embeddings");
    }
    this.embedder = embedder;
    this.vocabulary = List.copyOf(vocabulary);
    this.unitWords = EmbeddingRetrieval.unitRows(e);
    this.settings = settings;
  }

  public List<String> vocabulary() {
    return vocabulary;
  }

  public Settings settings() {
    return settings;
  }

  /** Greedy construction from nothing, then {@link #improve}; progress lines go to {@code log} (null: quiet). */
  public Result build(Objective objective, PrintStream log, String label) {
    Run run = new Run(objective, log, label);
    Best first = run.known(vocabulary, unitWords); // one-word texts: the vocabulary's own embeddings
    run.accept(first, "greedy");
    List<String> words = first.words;
    while (words.size() < settings.maxWords() && !run.spent()) {
      List<List<String>> candidates = new ArrayList<>();
      for (String w : vocabulary) {
        List<String> c = new ArrayList<>(words);
        c.add(w);
        candidates.add(c);
      }
      Best b = run.best(candidates, Double.POSITIVE_INFINITY);
      if (b == null || !(b.score > run.score + settings.minGain())) {
        break;
      }
      words = b.words;
      run.accept(b, "greedy");
    }
    return run.localSearch(words, Double.NaN);
  }

  /** Local word edits of {@code start} (see the class comment); progress lines go to {@code log} (null: quiet). */
  public Result improve(String start, Objective objective, PrintStream log, String label) {
    List<String> words = new ArrayList<>(List.of(start.strip().split("\\s+")));
    if (start.isBlank()) {
      throw new IllegalArgumentException(label + ": cannot improve an empty text");
    }
    Run run = new Run(objective, log, label);
    Best b = run.best(List.of(words), Double.POSITIVE_INFINITY);
    if (b == null) {
      return new Result(String.join(" ", words), Double.NaN, Double.NaN, 0, 0, true);
    }
    run.accept(b, null);
    return run.localSearch(words, b.score);
  }

  private record Best(List<String> words, double score, float[] embedding) {}

  /** The state of one search: scores seen, the best so far, the budget. */
  private final class Run {
    final Objective objective;
    final PrintStream log;
    final String label;
    final long start = System.nanoTime();
    final Map<String, Double> seen = new HashMap<>();
    int evaluations;
    int edits;
    double score = Double.NEGATIVE_INFINITY;
    float[] embedding;
    boolean spent;

    Run(Objective objective, PrintStream log, String label) {
      this.objective = objective;
      this.log = log;
      this.label = label;
    }

    boolean spent() {
      if (settings.maxEvaluations() > 0 && evaluations >= settings.maxEvaluations()) {
        spent = true;
      }
      if (settings.timeLimit() != null && System.nanoTime() - start > settings.timeLimit().toNanos()) {
        spent = true;
      }
      return spent;
    }

    void accept(Best b, String what) {
      score = b.score;
      embedding = b.embedding;
      if (what != null) {
        edits++;
        if (log != null) {
          log.printf(Locale.ROOT, "%s: %s, %d words, best %.4f (%d texts embedded, %.1fs): %s%n", label, what,
              b.words.size(), b.score, evaluations, (System.nanoTime() - start) / 1e9, String.join(" ", b.words));
        }
      }
    }

    /** Scores one-word texts whose embeddings are known (no budget spent); the best. */
    Best known(List<String> texts, float[][] embeddings) {
      double[] s = objective.scores(embeddings);
      Best best = null;
      for (int i = 0; i < s.length; i++) {
        seen.put(texts.get(i), s[i]);
        if (best == null || s[i] > best.score) {
          best = new Best(List.of(texts.get(i)), s[i], embeddings[i]);
        }
      }
      return best;
    }

    /**
     * Scores the candidates not seen before, in order, in chunks of {@value #CHUNK}, within the budget; returns the
     * best new one (or null) once a chunk has found one above {@code enough}, else after all of them.
     */
    Best best(List<List<String>> candidates, double enough) {
      Map<String, List<String>> fresh = new LinkedHashMap<>();
      for (List<String> c : candidates) {
        String t = String.join(" ", c);
        if (!seen.containsKey(t)) {
          fresh.putIfAbsent(t, c);
        }
      }
      List<String> texts = new ArrayList<>(fresh.keySet());
      Best best = null;
      int batch = CHUNK;
      for (int from = 0; from < texts.size() && !spent() && !(best != null && best.score > enough); from += batch) {
        int n = Math.min(batch, texts.size() - from);
        if (settings.maxEvaluations() > 0) {
          n = Math.min(n, settings.maxEvaluations() - evaluations);
        }
        List<String> part = texts.subList(from, from + n);
        float[][] e = embedder.embed(part);
        double[] s = objective.scores(e);
        evaluations += n;
        for (int i = 0; i < n; i++) {
          seen.put(part.get(i), s[i]);
          if (best == null || s[i] > best.score) {
            best = new Best(fresh.get(part.get(i)), s[i], e[i]);
          }
        }
      }
      return best;
    }

    Result localSearch(List<String> words, double startScore) {
      List<String> current = words;
      while (!spent()) {
        List<List<String>> candidates = neighbours(current, shortlist(objective.ascent(embedding)));
        Best b = best(candidates, score + settings.minGain());
        if (b == null || !(b.score > score + settings.minGain())) {
          break;
        }
        current = b.words;
        accept(b, "edit");
      }
      return new Result(String.join(" ", current), score, startScore, evaluations, edits, spent);
    }

    /**
     * Deletions, swaps of neighbours, then for each word of {@code words} in order (the shortlist, best aligned
     * first) its replacements and insertions at every position.
     */
    List<List<String>> neighbours(List<String> w, List<String> words) {
      List<List<String>> out = new ArrayList<>();
      int n = w.size();
      for (int i = 0; i < n && n > 1; i++) {
        List<String> c = new ArrayList<>(w);
        c.remove(i);
        out.add(c);
      }
      for (int i = 0; i + 1 < n; i++) {
        if (!w.get(i).equals(w.get(i + 1))) {
          List<String> c = new ArrayList<>(w);
          c.set(i, w.get(i + 1));
          c.set(i + 1, w.get(i));
          out.add(c);
        }
      }
      for (String v : words) {
        for (int i = 0; i < n; i++) {
          if (!v.equals(w.get(i))) {
            List<String> c = new ArrayList<>(w);
            c.set(i, v);
            out.add(c);
          }
        }
        for (int i = 0; i <= n && n < settings.maxWords(); i++) {
          List<String> c = new ArrayList<>(w);
          c.add(i, v);
          out.add(c);
        }
      }
      return out;
    }
  }

  /** The {@code shortlist} vocabulary words closest in direction to {@code ascent} (all when 0 or ≥ the size). */
  List<String> shortlist(float[] ascent) {
    int k = settings.shortlist();
    if (k == 0 || k >= vocabulary.size()) {
      return vocabulary;
    }
    float[] a = EmbeddingRetrieval.unit(ascent);
    float[] cos = new float[unitWords.length];
    for (int j = 0; j < cos.length; j++) {
      double s = 0;
      for (int d = 0; d < a.length; d++) {
        s += (double) a[d] * unitWords[j][d];
      }
      cos[j] = (float) s;
    }
    List<String> out = new ArrayList<>(k);
    for (int j : EmbeddingRetrieval.topRows(cos, k, null)) {
      out.add(vocabulary.get(j));
    }
    return out;
  }

  // ---------------------------------------------------------------- objectives

  /** The cosine to {@code target}; ascent: the part of the target orthogonal to the current embedding. */
  public static Objective cosineTo(float[] target) {
    float[] t = EmbeddingRetrieval.unit(target);
    return new Objective() {
      @Override
      public double[] scores(float[][] embeddings) {
        double[] out = new double[embeddings.length];
        for (int i = 0; i < out.length; i++) {
          out[i] = org.promptrecovery4j.evaluation.SharpenedCosine.cosine(embeddings[i], t);
        }
        return out;
      }

      @Override
      public float[] ascent(float[] current) {
        float[] e = EmbeddingRetrieval.unit(current);
        double c = dot(e, t);
        float[] d = new float[t.length];
        for (int k = 0; k < d.length; k++) {
          d[k] = (float) (t[k] - c * e[k]);
        }
        return d;
      }
    };
  }

  /**
   * The mean over {@code targets} of sign(c)·|c|^exponent, c the cosine (the competition's score of one constant
   * answer when the targets are the true prompts' sentence-t5 embeddings and the exponent is 3); ascent: its gradient
   * on the unit sphere, Σ p·|c_j|^(p−1)·(t_j − c_j·e).
   */
  public static Objective meanSharpenedCosine(float[][] targets, double exponent) {
    if (targets.length == 0) {
      throw new IllegalArgumentException("no target embeddings");
    }
    float[][] unitTargets = EmbeddingRetrieval.unitRows(targets);
    INDArray tt = Nd4j.createFromArray(unitTargets).transpose();
    return new Objective() {
      @Override
      public double[] scores(float[][] embeddings) {
        float[][] c = Nd4j.createFromArray(EmbeddingRetrieval.unitRows(embeddings)).mmul(tt).castTo(DataType.FLOAT)
            .toFloatMatrix();
        double[] out = new double[embeddings.length];
        for (int i = 0; i < out.length; i++) {
          double s = 0;
          for (float x : c[i]) {
            s += exponent == 3 ? (double) x * x * x : Math.signum(x) * Math.pow(Math.abs(x), exponent);
          }
          out[i] = s / c[i].length;
        }
        return out;
      }

      @Override
      public float[] ascent(float[] current) {
        float[] e = EmbeddingRetrieval.unit(current);
        double[] d = new double[e.length];
        for (float[] t : unitTargets) {
          double c = dot(e, t);
          double w = exponent * Math.pow(Math.abs(c), exponent - 1);
          for (int k = 0; k < d.length; k++) {
            d[k] += w * (t[k] - c * e[k]);
          }
        }
        float[] out = new float[d.length];
        for (int k = 0; k < d.length; k++) {
          out[k] = (float) d[k];
        }
        return out;
      }
    };
  }

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int k = 0; k < a.length; k++) {
      s += (double) a[k] * b[k];
    }
    return s;
  }
}
