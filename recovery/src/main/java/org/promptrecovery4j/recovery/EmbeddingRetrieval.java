package org.promptrecovery4j.recovery;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.evaluation.SharpenedCosine;

/**
 * Nearest-prompt search by cosine over an {@link EmbeddedBank}: for a query embedding (e.g. a regression head's
 * predicted sentence-t5 embedding), the bank prompts with the highest cosine, best first (ties: the earlier bank
 * row), optionally leaving out given prompts (a row's own true prompt when scoring on labelled rows; compared after
 * {@link String#strip()}). The answer of a row is the top 1, or the top k joined by a separator ({@link #join}).
 *
 * <p>Queries go through in blocks of {@value #BLOCK}: the unit-normalised queries times the unit-normalised bank
 * (one float32 matrix product, ND4J), so that thousands of rows against tens of thousands of prompts take seconds;
 * the few best candidates of each query are then scored again in double precision, so that hits and their cosines
 * do not depend on the batch a query came in.
 */
public final class EmbeddingRetrieval {

  /** One bank prompt found for a query. */
  public record Hit(int index, String prompt, double cosine) {}

  static final int BLOCK = 256;
  static final float RESCORE_MARGIN = 1e-4f;

  private final EmbeddedBank bank;
  private final INDArray unitBank; // [n, d], rows of unit norm
  private final Map<String, List<Integer>> rowsByPrompt = new HashMap<>();

  public EmbeddingRetrieval(EmbeddedBank bank) {
    this.bank = bank;
    this.unitBank = Nd4j.createFromArray(unitRows(bank.embeddings()));
    for (int i = 0; i < bank.size(); i++) {
      rowsByPrompt.computeIfAbsent(bank.prompt(i).strip(), p -> new ArrayList<>()).add(i);
    }
  }

  public EmbeddedBank bank() {
    return bank;
  }

  /** The {@code k} nearest prompts to {@code query}, best first. */
  public List<Hit> nearest(float[] query, int k) {
    return nearest(query, k, List.of());
  }

  /** The {@code k} nearest prompts to {@code query} that are not in {@code excluded}, best first. */
  public List<Hit> nearest(float[] query, int k, Collection<String> excluded) {
    return nearestAll(new float[][] {query}, k, List.of(excluded)).get(0);
  }

  /**
   * The {@code k} nearest prompts of each query, best first; {@code excluded} is null (nothing left out) or holds
   * one collection of prompts to leave out per query.
   */
  public List<List<Hit>> nearestAll(float[][] queries, int k, List<? extends Collection<String>> excluded) {
    if (k < 1) {
      throw new IllegalArgumentException("k must be at least 1, is " + k);
    }
    if (excluded != null && excluded.size() != queries.length) {
      throw new IllegalArgumentException(queries.length + " queries but " + excluded.size() + " exclusion lists");
    }
    List<List<Hit>> out = new ArrayList<>(queries.length);
    for (int from = 0; from < queries.length; from += BLOCK) {
      int n = Math.min(BLOCK, queries.length - from);
      float[][] cos = cosines(java.util.Arrays.copyOfRange(queries, from, from + n), from);
      for (int q = 0; q < n; q++) {
        boolean[] skip = excludedRows(excluded == null ? List.of() : excluded.get(from + q));
        out.add(top(queries[from + q], cos[q], k, skip));
      }
    }
    return out;
  }

  /** The cosine of each query with every bank row: [queries][bank size]. */
  public float[][] cosines(float[][] queries) {
    float[][] out = new float[queries.length][];
    for (int from = 0; from < queries.length; from += BLOCK) {
      int n = Math.min(BLOCK, queries.length - from);
      float[][] c = cosines(java.util.Arrays.copyOfRange(queries, from, from + n), from);
      System.arraycopy(c, 0, out, from, n);
    }
    return out;
  }

  private float[][] cosines(float[][] block, int firstRow) {
    for (int q = 0; q < block.length; q++) {
      if (block[q].length != bank.dimension()) {
        throw new IllegalArgumentException("query " + (firstRow + q) + " has " + block[q].length + " values, the"
            + " bank's embeddings (" + bank.source() + ") have " + bank.dimension()
            + " (an embedding of another encoder?)");
      }
    }
    INDArray q = Nd4j.createFromArray(unitRows(block));
    return q.mmul(unitBank.transpose()).castTo(DataType.FLOAT).toFloatMatrix();
  }

  private boolean[] excludedRows(Collection<String> prompts) {
    boolean[] skip = new boolean[bank.size()];
    for (String p : prompts) {
      List<Integer> rows = rowsByPrompt.get(p.strip());
      if (rows != null) {
        rows.forEach(r -> skip[r] = true);
      }
    }
    return skip;
  }

  /** The k best rows (highest cosine; ties: the lower row), not skipped (null: none), best first. */
  static int[] topRows(float[] cos, int k, boolean[] skip) {
    int[] best = new int[Math.min(k, cos.length)];
    int size = 0;
    for (int j = 0; j < cos.length; j++) {
      if ((skip != null && skip[j]) || Float.isNaN(cos[j])) {
        continue;
      }
      if (size == best.length && !(cos[j] > cos[best[size - 1]])) {
        continue;
      }
      int pos = size == best.length ? size - 1 : size++;
      while (pos > 0 && cos[j] > cos[best[pos - 1]]) {
        best[pos] = best[pos - 1];
        pos--;
      }
      best[pos] = j;
    }
    return java.util.Arrays.copyOf(best, size);
  }

  /**
   * The k best rows for one query: candidates by the float32 product (every row within {@value #RESCORE_MARGIN} of the
   * k-th best), then cosines in double precision ({@code SharpenedCosine.cosine} of the raw vectors), ties to the
   * lower row. So an answer does not depend on which queries shared its block.
   */
  private List<Hit> top(float[] query, float[] cos, int k, boolean[] skip) {
    int[] best = topRows(cos, k, skip);
    if (best.length == 0) {
      return List.of();
    }
    float floor = cos[best[best.length - 1]] - RESCORE_MARGIN;
    List<Hit> candidates = new ArrayList<>();
    for (int j = 0; j < cos.length; j++) {
      if (!skip[j] && cos[j] >= floor) {
        candidates.add(new Hit(j, bank.prompt(j), SharpenedCosine.cosine(query, bank.embedding(j))));
      }
    }
    candidates.sort(Comparator.comparingDouble((Hit h) -> -h.cosine()).thenComparingInt(Hit::index));
    return List.copyOf(candidates.subList(0, Math.min(k, candidates.size())));
  }

  /** The prompts of the first {@code k} hits joined by {@code separator} (fewer when there are fewer hits). */
  public static String join(List<Hit> hits, int k, String separator) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < Math.min(k, hits.size()); i++) {
      s.append(i == 0 ? "" : separator).append(hits.get(i).prompt());
    }
    return s.toString();
  }

  /** Rows scaled to unit norm (a zero row stays zero). */
  static float[][] unitRows(float[][] rows) {
    float[][] out = new float[rows.length][];
    for (int i = 0; i < rows.length; i++) {
      out[i] = unit(rows[i]);
    }
    return out;
  }

  static float[] unit(float[] v) {
    double n = 0;
    for (float x : v) {
      n += (double) x * x;
    }
    float[] out = new float[v.length];
    if (n == 0) {
      return out;
    }
    double s = 1 / Math.sqrt(n);
    for (int k = 0; k < v.length; k++) {
      out[k] = (float) (v[k] * s);
    }
    return out;
  }
}
