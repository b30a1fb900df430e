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
 * Labelled rows ({@code id,original_text,rewritten_text,rewrite_prompt}, a Kaggle CSV read by {@link KaggleCsv}) and
 * the nearest of them to a query row: the one example store of the nearest-examples recoverer and of the few-shot
 * picker. Texts are embedded once; a query row is compared with every bank row by a {@link Similarity}
 *
 * <pre>  sim = w_r · cos(r, r') + w_d · cos(d, d') + w_o · cos(o, o'),   d = (r − o) / |r − o|</pre>
 *
 * (r, o: the embeddings of the rewritten and original texts; the originals are embedded only when a weight needs
 * them), ties to the earlier row. A bank row is never an example of itself: rows with the query's id, and rows with
 * the query's exact (original, rewritten) pair, are skipped, so that the bank may be the very file being evaluated
 * (leave-one-out); when asked, so are rows whose prompt is the query's true prompt. A query text the bank holds
 * reuses the bank's embedding (the embedder is assumed deterministic).
 */
public final class ExampleBank {

  /** Texts → one embedding row each, in order ({@code SentenceEmbedder::embed} fits). */
  @FunctionalInterface
  public interface Embedder {
    float[][] embed(List<String> texts);
  }

  /** Weights of the rewritten-text, change and original-text cosines. */
  public record Similarity(double rewritten, double change, double original) {
    /** The rewritten texts alone (the few-shot picker's default). */
    public static final Similarity REWRITTEN = new Similarity(1, 0, 0);
    /** The rewritten texts and what the rewrite changed (the nearest-examples default, measured in docs/pipeline.md). */
    public static final Similarity REWRITTEN_AND_CHANGE = new Similarity(1, 1, 0);

    public Similarity {
      for (double w : new double[] {rewritten, change, original}) {
        if (!(w >= 0 && w <= 100)) {
          throw new IllegalArgumentException("similarity weights must be in [0, 100], are " + rewritten + ", "
              + change + ", " + original);
        }
      }
      if (rewritten + change + original == 0) {
        throw new IllegalArgumentException("at least one similarity weight must be positive");
      }
    }

    boolean needsOriginals() {
      return change > 0 || original > 0;
    }
  }

  /** A query's nearest bank rows, the nearest first, and their similarities. */
  public record Neighbours(int[] rows, double[] similarities) {}

  /** Unit embeddings of one row: rewritten, original and change (the last two null when not needed). */
  private record Embedded(float[] r, float[] o, float[] d) {}

  private final String source;
  private final List<KaggleRow> rows;
  private final Embedder embedder;
  private final Similarity similarity;
  private final List<Embedded> embedded;

  /** A bank of {@code rows} compared by their rewritten texts ({@link Similarity#REWRITTEN}). */
  public ExampleBank(String source, List<KaggleRow> rows, Embedder embedder) {
    this(source, rows, embedder, Similarity.REWRITTEN);
  }

  /** A bank of {@code rows} (each with a non-blank {@code rewrite_prompt}), embedded now with {@code embedder}. */
  public ExampleBank(String source, List<KaggleRow> rows, Embedder embedder, Similarity similarity) {
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
    this.similarity = similarity;
    this.embedded = embed(this.rows, Map.of(), List.of());
  }

  /** The rows of a Kaggle CSV with {@code rewrite_prompt}, embedded with {@code embedder}, compared by rewritten text. */
  public static ExampleBank load(Path csv, Embedder embedder) throws IOException {
    return load(csv, embedder, Similarity.REWRITTEN);
  }

  /** The rows of a Kaggle CSV with {@code rewrite_prompt}, embedded with {@code embedder}. */
  public static ExampleBank load(Path csv, Embedder embedder, Similarity similarity) throws IOException {
    KaggleTable t = KaggleCsv.read(csv);
    if (!t.hasRewritePrompt()) {
      throw new IllegalArgumentException(csv + ": header (line 1): no column 'rewrite_prompt' (an example bank needs"
          + " the examples' prompts; columns: " + String.join(", ", t.header()) + ")");
    }
    return new ExampleBank(csv.toString(), t.rows(), embedder, similarity);
  }

  /** Embeds {@code queries}, reusing the bank's embeddings of texts it holds. */
  private List<Embedded> embed(List<KaggleRow> queries, Map<String, float[]> knownR, List<Map<String, float[]>> knownO) {
    Map<String, float[]> oKnown = knownO.isEmpty() ? Map.of() : knownO.get(0);
    java.util.LinkedHashSet<String> missing = new java.util.LinkedHashSet<>();
    for (KaggleRow r : queries) {
      if (!knownR.containsKey(r.rewrittenText())) {
        missing.add(r.rewrittenText());
      }
      if (similarity.needsOriginals() && !oKnown.containsKey(r.originalText())) {
        missing.add(r.originalText());
      }
    }
    List<String> texts = new ArrayList<>(missing);
    float[][] e = texts.isEmpty() ? new float[0][] : embedder.embed(texts);
    if (e.length != texts.size()) {
      throw new IllegalStateException("the embedder gave " + e.length + " rows for " + texts.size() + " texts");
    }
    Map<String, float[]> fresh = new HashMap<>();
    for (int i = 0; i < e.length; i++) {
      fresh.put(texts.get(i), unit(e[i]));
    }
    List<Embedded> out = new ArrayList<>(queries.size());
    for (KaggleRow q : queries) {
      float[] r = knownR.containsKey(q.rewrittenText()) ? knownR.get(q.rewrittenText()) : fresh.get(q.rewrittenText());
      float[] o = null;
      float[] d = null;
      if (similarity.needsOriginals()) {
        o = oKnown.containsKey(q.originalText()) ? oKnown.get(q.originalText()) : fresh.get(q.originalText());
        d = new float[r.length];
        for (int j = 0; j < d.length; j++) {
          d[j] = r[j] - o[j];
        }
        d = unit(d);
      }
      out.add(new Embedded(r, o, d));
    }
    return out;
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

  public Similarity similarity() {
    return similarity;
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
    return neighbours(queries, k, false).stream().map(Neighbours::rows).toList();
  }

  /**
   * For each query, its {@code k} nearest eligible rows and their similarities, the nearest first; with
   * {@code excludeTruePrompts}, rows whose prompt is the query's {@code rewrite_prompt} are not eligible either.
   */
  public List<Neighbours> neighbours(List<KaggleRow> queries, int k, boolean excludeTruePrompts) {
    if (queries.isEmpty()) {
      return List.of();
    }
    Map<String, float[]> knownR = new HashMap<>();
    Map<String, float[]> knownO = new HashMap<>();
    for (int i = 0; i < rows.size(); i++) {
      knownR.putIfAbsent(rows.get(i).rewrittenText(), embedded.get(i).r());
      if (similarity.needsOriginals()) {
        knownO.putIfAbsent(rows.get(i).originalText(), embedded.get(i).o());
      }
    }
    List<Embedded> q = embed(queries, knownR, List.of(knownO));
    List<Neighbours> out = new ArrayList<>(queries.size());
    for (int i = 0; i < queries.size(); i++) {
      KaggleRow row = queries.get(i);
      String truth = excludeTruePrompts ? row.rewritePrompt().map(String::strip).orElse(null) : null;
      out.add(nearest(q.get(i), row, k, truth));
    }
    return out;
  }

  private Neighbours nearest(Embedded query, KaggleRow row, int k, String excludedPrompt) {
    double[] sim = new double[rows.size()];
    // the k best so far, worst at the head: lower similarity, then the later row, is worse
    PriorityQueue<Integer> best = new PriorityQueue<>(k + 1, (a, b) -> sim[a] != sim[b]
        ? Double.compare(sim[a], sim[b]) : Integer.compare(b, a));
    for (int i = 0; i < rows.size(); i++) {
      if (!mayExplain(i, row)
          || (excludedPrompt != null && rows.get(i).rewritePrompt().orElseThrow().strip().equals(excludedPrompt))) {
        continue;
      }
      sim[i] = similarity(embedded.get(i), query);
      best.add(i);
      if (best.size() > k) {
        best.poll();
      }
    }
    int[] idx = new int[best.size()];
    double[] s = new double[idx.length];
    for (int j = idx.length - 1; j >= 0; j--) {
      idx[j] = best.poll();
      s[j] = sim[idx[j]];
    }
    return new Neighbours(idx, s);
  }

  private double similarity(Embedded e, Embedded q) {
    double s = similarity.rewritten() * dot(e.r(), q.r());
    if (similarity.needsOriginals()) {
      s += similarity.change() * dot(e.d(), q.d()) + similarity.original() * dot(e.o(), q.o());
    }
    return s;
  }

  /** The cosine similarity of bank row {@code i}'s rewritten text with an embedded query (for reports and tests). */
  public double similarity(int i, float[] query) {
    return SharpenedCosine.cosine(embedded.get(i).r(), query);
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

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (double) a[i] * b[i];
    }
    return s;
  }

  @Override
  public String toString() {
    return source + " (" + rows.size() + " examples)";
  }
}
