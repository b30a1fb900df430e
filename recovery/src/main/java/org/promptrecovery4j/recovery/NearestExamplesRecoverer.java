package org.promptrecovery4j.recovery;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;

/**
 * Nearest labelled examples: the user's rows {@code id,original_text,rewritten_text,rewrite_prompt} are embedded
 * once (original o and rewritten r, by a sentence encoder: the built-in one by default); a query row is compared
 * with every example by
 *
 * <pre>  sim = w_r · cos(r, r') + w_d · cos(d, d') + w_o · cos(o, o'),   d = (r − o) / |r − o|</pre>
 *
 * (defaults 1, 1, 0: the rewritten text and what the rewrite changed, chosen on the 1,427 real rows, see
 * docs/pipeline.md), and the answer is the prompt with the largest similarity-weighted vote among the {@code k}
 * nearest examples (k = 1: the nearest example's prompt). An example with the row's own id, or with the same
 * original and rewritten text, is never the row's neighbour (leave-one-out when the examples are the evaluated
 * file); with {@link #excludeTruePrompts} neither is any example whose prompt is the row's true prompt.
 */
public final class NearestExamplesRecoverer implements PromptRecoverer {

  public static final String NAME = "nearest-examples";

  /** Weights of the three cosines and the number of neighbours that vote. */
  public record Settings(int k, double rewrittenWeight, double changeWeight, double originalWeight) {
    public Settings {
      if (k < 1 || k > 1000) {
        throw new IllegalArgumentException("nearest-examples: k must be in [1, 1000], is " + k);
      }
      for (double w : new double[] {rewrittenWeight, changeWeight, originalWeight}) {
        if (!(w >= 0 && w <= 100)) {
          throw new IllegalArgumentException("nearest-examples: weights must be in [0, 100], are " + rewrittenWeight
              + ", " + changeWeight + ", " + originalWeight);
        }
      }
      if (rewrittenWeight + changeWeight + originalWeight == 0) {
        throw new IllegalArgumentException("nearest-examples: at least one weight must be positive");
      }
    }

    public static Settings defaults() {
      return new Settings(1, 1, 1, 0);
    }
  }

  /** An example's embeddings: original, rewritten, normalised change. */
  private record Embedded(float[] o, float[] r, float[] d) {}

  private final SentenceEmbedder encoder;
  private final List<KaggleRow> examples;
  private final List<Embedded> embedded;
  private final Settings settings;
  private boolean excludeTruePrompts;

  /** Embeds the examples (every row must have a non-blank {@code rewrite_prompt}). */
  public NearestExamplesRecoverer(SentenceEmbedder encoder, KaggleTable examples, Settings settings) {
    if (!examples.hasRewritePrompt()) {
      throw new IllegalArgumentException(examples.source() + ": examples need a rewrite_prompt column");
    }
    for (KaggleRow r : examples.rows()) {
      if (r.rewritePrompt().orElse("").isBlank()) {
        throw new IllegalArgumentException(examples.source() + ": row " + r.id() + " (line " + r.line()
            + ") has a blank rewrite_prompt: an example needs its prompt");
      }
    }
    if (examples.rows().isEmpty()) {
      throw new IllegalArgumentException(examples.source() + ": no example rows");
    }
    this.encoder = encoder;
    this.examples = examples.rows();
    this.settings = settings;
    this.embedded = embed(this.examples);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void excludeTruePrompts(boolean on) {
    this.excludeTruePrompts = on;
  }

  public int size() {
    return examples.size();
  }

  private List<Embedded> embed(List<KaggleRow> rows) {
    List<String> texts = new ArrayList<>(2 * rows.size());
    rows.forEach(r -> texts.add(r.originalText()));
    rows.forEach(r -> texts.add(r.rewrittenText()));
    float[][] e = encoder.embed(texts);
    List<Embedded> out = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      float[] o = unit(e[i]);
      float[] r = unit(e[rows.size() + i]);
      float[] d = new float[r.length];
      for (int j = 0; j < d.length; j++) {
        d[j] = r[j] - o[j];
      }
      out.add(new Embedded(o, r, unit(d)));
    }
    return out;
  }

  @Override
  public List<String> recoverAll(List<KaggleRow> rows) {
    List<Embedded> q = embed(rows);
    List<String> out = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      out.add(answer(rows.get(i), q.get(i)));
    }
    return out;
  }

  private String answer(KaggleRow row, Embedded q) {
    int k = settings.k();
    int[] best = new int[k];
    double[] bestSim = new double[k];
    java.util.Arrays.fill(best, -1);
    java.util.Arrays.fill(bestSim, Double.NEGATIVE_INFINITY);
    String truth = excludeTruePrompts ? row.rewritePrompt().map(String::strip).orElse(null) : null;
    for (int j = 0; j < examples.size(); j++) {
      KaggleRow ex = examples.get(j);
      if (ex.id().equals(row.id())
          || (ex.originalText().equals(row.originalText()) && ex.rewrittenText().equals(row.rewrittenText()))
          || (truth != null && ex.rewritePrompt().orElseThrow().strip().equals(truth))) {
        continue;
      }
      Embedded e = embedded.get(j);
      double sim = settings.rewrittenWeight() * dot(q.r(), e.r()) + settings.changeWeight() * dot(q.d(), e.d())
          + settings.originalWeight() * dot(q.o(), e.o());
      for (int s = 0; s < k; s++) { // insertion into the top k, ties to the earlier example
        if (sim > bestSim[s]) {
          System.arraycopy(best, s, best, s + 1, k - s - 1);
          System.arraycopy(bestSim, s, bestSim, s + 1, k - s - 1);
          best[s] = j;
          bestSim[s] = sim;
          break;
        }
      }
    }
    Map<String, Double> votes = new HashMap<>();
    String answer = "";
    double top = Double.NEGATIVE_INFINITY;
    for (int s = 0; s < k && best[s] >= 0; s++) {
      String p = examples.get(best[s]).rewritePrompt().orElseThrow().strip();
      double v = votes.merge(p, Math.exp(5 * bestSim[s]), Double::sum);
      if (v > top) {
        top = v;
        answer = p;
      }
    }
    return answer;
  }

  static float[] unit(float[] v) {
    double n = 0;
    for (float x : v) {
      n += (double) x * x;
    }
    n = Math.sqrt(n);
    float[] out = new float[v.length];
    if (n > 1e-12) {
      for (int i = 0; i < v.length; i++) {
        out[i] = (float) (v[i] / n);
      }
    }
    return out;
  }

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (double) a[i] * b[i];
    }
    return s;
  }

  @Override
  public String toString() {
    return NAME + " (" + examples.size() + " examples, " + settings + ")";
  }
}
