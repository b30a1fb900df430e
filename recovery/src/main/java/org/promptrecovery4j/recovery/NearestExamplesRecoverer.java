package org.promptrecovery4j.recovery;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Nearest labelled examples: the user's rows {@code id,original_text,rewritten_text,rewrite_prompt} in an
 * {@link ExampleBank} (embedded once by a sentence encoder: the built-in one by default), compared with a query row by
 *
 * <pre>  sim = w_r · cos(r, r') + w_d · cos(d, d') + w_o · cos(o, o'),   d = (r − o) / |r − o|</pre>
 *
 * (defaults 1, 1, 0: the rewritten text and what the rewrite changed, chosen on the 1,427 real rows, see
 * docs/pipeline.md); the answer is the prompt with the largest similarity-weighted vote (exp(5 · sim)) among the
 * {@code k} nearest examples (k = 1: the nearest example's prompt). The bank's leave-one-out rules apply (an example
 * with the row's id or texts is never its neighbour); with {@link #excludeTruePrompts} neither is any example whose
 * prompt is the row's true prompt.
 */
public final class NearestExamplesRecoverer implements PromptRecoverer {

  public static final String NAME = "nearest-examples";

  /** The number of neighbours that vote and the weights of the three cosines. */
  public record Settings(int k, double rewrittenWeight, double changeWeight, double originalWeight) {
    public Settings {
      if (k < 1 || k > 1000) {
        throw new IllegalArgumentException("nearest-examples: k must be in [1, 1000], is " + k);
      }
      similarity(rewrittenWeight, changeWeight, originalWeight);
    }

    public static Settings defaults() {
      return new Settings(1, 1, 1, 0);
    }

    ExampleBank.Similarity similarity() {
      return similarity(rewrittenWeight, changeWeight, originalWeight);
    }

    private static ExampleBank.Similarity similarity(double r, double d, double o) {
      return new ExampleBank.Similarity(r, d, o);
    }
  }

  private final ExampleBank bank;
  private final Settings settings;
  private boolean excludeTruePrompts;

  /** Embeds the examples (every row must have a non-blank {@code rewrite_prompt}). */
  public NearestExamplesRecoverer(ExampleBank.Embedder encoder, KaggleTable examples, Settings settings) {
    if (!examples.hasRewritePrompt()) {
      throw new IllegalArgumentException(examples.source() + ": examples need a rewrite_prompt column");
    }
    this.bank = new ExampleBank(examples.source().toString(), examples.rows(), encoder, settings.similarity());
    this.settings = settings;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void excludeTruePrompts(boolean on) {
    this.excludeTruePrompts = on;
  }

  public ExampleBank bank() {
    return bank;
  }

  @Override
  public List<String> recoverAll(List<KaggleRow> rows) {
    List<String> out = new ArrayList<>(rows.size());
    for (ExampleBank.Neighbours n : bank.neighbours(rows, settings.k(), excludeTruePrompts)) {
      Map<String, Double> votes = new HashMap<>();
      String answer = "";
      double top = Double.NEGATIVE_INFINITY;
      for (int s = 0; s < n.rows().length; s++) {
        String p = bank.get(n.rows()[s]).rewritePrompt().orElseThrow().strip();
        double v = votes.merge(p, Math.exp(5 * n.similarities()[s]), Double::sum);
        if (v > top) {
          top = v;
          answer = p;
        }
      }
      out.add(answer);
    }
    return out;
  }

  @Override
  public String toString() {
    return NAME + " (" + bank.size() + " examples, " + settings + ")";
  }
}
