package org.promptrecovery4j.recovery;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import org.promptrecovery4j.core.PythonText;
import org.promptrecovery4j.evaluation.SharpenedCosine;

/**
 * Labelled rows ({@code id,original_text,rewritten_text,rewrite_prompt}, a Kaggle CSV read by {@link KaggleCsv}) to
 * pick few-shot examples from: each row's {@code rewritten_text} is embedded once, and a query row's nearest rows are
 * those whose rewritten text has the highest cosine similarity with its own (ties: the earlier row). A bank row is
 * never an example of itself: rows with the query's id, and rows with the query's exact (original, rewritten) pair,
 * are skipped, so that the bank may be the very file being evaluated (leave-one-out). A query whose rewritten text is
 * in the bank reuses that row's embedding (the embedder is assumed deterministic).
 */
public final class ExampleBank {

  /** Texts → one embedding row each, in order ({@code SentenceEmbedder::embed} fits). */
  @FunctionalInterface
  public interface Embedder {
    float[][] embed(List<String> texts);
  }

  private final String source;
  private final List<KaggleRow> rows;
  private final Embedder embedder;
  private final float[][] embeddings;
  private final Map<String, Integer> byText = new HashMap<>();

  /** A bank of {@code rows} (each with a non-blank {@code rewrite_prompt}), embedded now with {@code embedder}. */
  public ExampleBank(String source, List<KaggleRow> rows, Embedder embedder) {
    if (rows.isEmpty()) {
      throw new IllegalArgumentException(source + ": the example bank has no rows");
    }
    for (int i = 0; i < rows.size(); i++) {
      KaggleRow r = rows.get(i);
      if (r.rewritePrompt().isEmpty()) {
        throw new IllegalArgumentException(source + ": an example bank needs a rewrite_prompt column (the examples'"
            + " answers)");
      }
      if (PythonText.isBlank(r.rewritePrompt().get())) {
        throw new IllegalArgumentException(source + ": row " + (i + 1) + " (line " + r.line() + ", id " + r.id()
            + "): empty rewrite_prompt");
      }
    }
    this.source = source;
    this.rows = List.copyOf(rows);
    this.embedder = embedder;
    this.embeddings = embedder.embed(this.rows.stream().map(KaggleRow::rewrittenText).toList());
    if (embeddings.length != rows.size()) {
      throw new IllegalStateException("the embedder gave " + embeddings.length + " rows for " + rows.size() + " texts");
    }
    for (int i = 0; i < rows.size(); i++) {
      byText.putIfAbsent(rows.get(i).rewrittenText(), i);
    }
  }

  /** The rows of a Kaggle CSV with {@code rewrite_prompt}, embedded with {@code embedder}. */
  public static ExampleBank load(Path csv, Embedder embedder) throws IOException {
    KaggleTable t = KaggleCsv.read(csv);
    if (!t.hasRewritePrompt()) {
      throw new IllegalArgumentException(csv + ": header (line 1): no column 'rewrite_prompt' (an example bank needs"
          + " the examples' prompts; columns: " + String.join(", ", t.header()) + ")");
    }
    return new ExampleBank(csv.toString(), t.rows(), embedder);
  }

  public String source() {
    return source;
  }

  public int size() {
    return rows.size();
  }

  public KaggleRow get(int i) {
    return rows.get(i);
  }

  /** Whether bank row {@code i} may be an example of {@code query}: not the same id, not the same pair of texts. */
  public boolean mayExplain(int i, KaggleRow query) {
    KaggleRow r = rows.get(i);
    return !r.id().equals(query.id())
        && !(r.originalText().equals(query.originalText()) && r.rewrittenText().equals(query.rewrittenText()));
  }

  /**
   * For each query, the bank indices of its {@code k} nearest rows, the nearest first (fewer when the bank has fewer
   * eligible rows).
   */
  public List<int[]> nearest(List<KaggleRow> queries, int k) {
    if (queries.isEmpty()) {
      return List.of();
    }
    // a rewritten text the bank holds is not embedded again (the bank is often the evaluated file itself)
    List<String> missing = new ArrayList<>();
    for (KaggleRow r : queries) {
      if (!byText.containsKey(r.rewrittenText())) {
        missing.add(r.rewrittenText());
      }
    }
    float[][] fresh = missing.isEmpty() ? new float[0][] : embedder.embed(missing);
    List<int[]> out = new ArrayList<>(queries.size());
    int m = 0;
    for (KaggleRow r : queries) {
      Integer i = byText.get(r.rewrittenText());
      out.add(nearest(i != null ? embeddings[i] : fresh[m++], r, k));
    }
    return out;
  }

  /** The {@code k} nearest eligible rows to an embedded query, the nearest first. */
  int[] nearest(float[] query, KaggleRow row, int k) {
    double[] sim = new double[rows.size()];
    // the k best so far, worst at the head: lower similarity, then the later row, is worse
    PriorityQueue<Integer> best = new PriorityQueue<>(k + 1, (a, b) -> sim[a] != sim[b]
        ? Double.compare(sim[a], sim[b]) : Integer.compare(b, a));
    for (int i = 0; i < rows.size(); i++) {
      if (!mayExplain(i, row)) {
        continue;
      }
      sim[i] = SharpenedCosine.cosine(embeddings[i], query);
      best.add(i);
      if (best.size() > k) {
        best.poll();
      }
    }
    int[] out = new int[best.size()];
    for (int j = out.length - 1; j >= 0; j--) {
      out[j] = best.poll();
    }
    return out;
  }

  /** The cosine similarity of bank row {@code i}'s rewritten text with an embedded query (for reports and tests). */
  public double similarity(int i, float[] query) {
    return SharpenedCosine.cosine(embeddings[i], query);
  }

  @Override
  public String toString() {
    return source + " (" + rows.size() + " examples)";
  }
}
