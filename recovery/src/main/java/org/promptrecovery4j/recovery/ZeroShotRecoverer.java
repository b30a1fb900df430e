package org.promptrecovery4j.recovery;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.promptrecovery4j.evaluation.SharpenedCosine;
import org.promptrecovery4j.models.builtin.BuiltinModels;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;

/**
 * The built-in zero-shot recoverer: no labelled data, no generator. A sentence encoder (the built-in
 * all-MiniLM-L6-v2 by default) embeds the row's texts and a {@link PromptBank}; each bank prompt p scores
 *
 * <pre>  s(p) = cos(p, rewritten) − w · cos(p, original)</pre>
 *
 * (what the rewrite added that the original lacked, with w = {@value #DEFAULT_ORIGINAL_WEIGHT}: measured on the
 * 1,427 real rows, docs/pipeline.md) and the answer is the {@code topK} best prompts joined by the separator.
 */
public final class ZeroShotRecoverer implements PromptRecoverer {

  public static final String NAME = "zero-shot";
  public static final double DEFAULT_ORIGINAL_WEIGHT = 0.5;
  public static final int DEFAULT_TOP_K = 2;

  /** How the bank is ranked and the answer put together. */
  public record Settings(double originalWeight, int topK, String separator) {
    public Settings {
      if (!(originalWeight >= 0 && originalWeight <= 10) || topK < 1 || topK > 100) {
        throw new IllegalArgumentException("zero-shot: original weight must be in [0, 10] and top k in [1, 100], are "
            + originalWeight + " and " + topK);
      }
    }

    public static Settings defaults() {
      return new Settings(DEFAULT_ORIGINAL_WEIGHT, DEFAULT_TOP_K, " ");
    }
  }

  private final SentenceEmbedder encoder;
  private final PromptBank bank;
  private final float[][] bankEmbeddings;
  private final Settings settings;
  private boolean excludeTruePrompts;

  public ZeroShotRecoverer(SentenceEmbedder encoder, PromptBank bank, Settings settings) {
    this.encoder = encoder;
    this.bank = bank;
    this.settings = settings;
    this.bankEmbeddings = encoder.embed(bank.prompts());
  }

  /** The embedded default: the built-in encoder and prompt bank, default settings; no model folder, no download. */
  public static ZeroShotRecoverer builtin() {
    return new ZeroShotRecoverer(BuiltinModels.allMiniLmL6V2(), PromptBank.builtin(), Settings.defaults());
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void excludeTruePrompts(boolean on) {
    this.excludeTruePrompts = on;
  }

  public PromptBank bank() {
    return bank;
  }

  @Override
  public List<String> recoverAll(List<KaggleRow> rows) {
    List<String> texts = new ArrayList<>(2 * rows.size());
    rows.forEach(r -> texts.add(r.originalText()));
    rows.forEach(r -> texts.add(r.rewrittenText()));
    float[][] e = encoder.embed(texts);
    List<String> out = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      int[] top = ranking(e[i], e[rows.size() + i]);
      String truth = excludeTruePrompts ? rows.get(i).rewritePrompt().map(String::strip).orElse(null) : null;
      StringBuilder answer = new StringBuilder();
      int taken = 0;
      for (int k = 0; k < top.length && taken < settings.topK(); k++) {
        if (bank.get(top[k]).equals(truth)) {
          continue;
        }
        answer.append(taken++ == 0 ? "" : settings.separator()).append(bank.get(top[k]));
      }
      out.add(answer.toString());
    }
    return out;
  }

  /** Bank indices, best first, for a row with these embeddings of its original and rewritten text. */
  public int[] ranking(float[] original, float[] rewritten) {
    double[] s = new double[bankEmbeddings.length];
    for (int j = 0; j < s.length; j++) {
      s[j] = SharpenedCosine.cosine(bankEmbeddings[j], rewritten)
          - settings.originalWeight() * SharpenedCosine.cosine(bankEmbeddings[j], original);
    }
    return IntStream.range(0, s.length).boxed().sorted(Comparator.comparingDouble((Integer j) -> -s[j])
        .thenComparingInt(j -> j)).mapToInt(Integer::intValue).toArray();
  }

  @Override
  public String toString() {
    return NAME + " (bank " + bank.source() + ", " + bank.size() + " prompts, " + settings + ")";
  }

}
