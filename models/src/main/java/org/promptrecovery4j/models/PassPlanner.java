package org.promptrecovery4j.models;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Splits a large batch into row chunks run one after another, so that a forward pass's activations
 * stay within a budget: SameDiff M2.1 frees few intermediates during one {@code output} call
 * (measured: DeBERTa-v3-large at 1 × 384 tokens holds ≈ 4 GB of activations, which grows linearly with
 * rows; 4 × 384 in one pass was killed at 20 GB). Results are concatenated in row order.
 *
 * <p>The arrays of a finished pass are released only when the JVM collects their Java wrappers, which
 * a small heap rarely does; JavaCPP forces a collection only near {@code maxphysicalbytes}, above what a
 * shared machine may have free (measured: 4 × 384 DeBERTa passes grew to 16.5 GB and were OOM-killed).
 * So after a pass whose estimated activations exceed {@code -Dpr4j.gcAfterMB} (default 256) a collection
 * is requested (≈ 0.1-0.2 s, against passes of seconds).
 *
 * <p>The budget is {@code -Dpr4j.activationBudgetMB} (default 3072).
 */
public final class PassPlanner {

  private PassPlanner() {}

  /** Passes estimated above this many bytes of activations are followed by a garbage collection. */
  public static long gcAfterBytes() {
    return Long.getLong("pr4j.gcAfterMB", 256L) << 20;
  }

  public static long budgetBytes() {
    return Long.getLong("pr4j.activationBudgetMB", 3072L) << 20;
  }

  /**
   * Rows per pass for attention scores of {@code heads × L × L} per layer, {@code bytesPerScore} bytes of
   * live activations per score element and layer (measured per architecture).
   */
  public static int rowsPerPass(int length, int heads, int layers, int bytesPerScore) {
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, budgetBytes() / bytesPerRow(length, heads, layers, bytesPerScore)));
  }

  /** Estimated live activation bytes of one row in one pass. */
  public static double bytesPerRow(int length, int heads, int layers, int bytesPerScore) {
    return (double) bytesPerScore * length * length * heads * Math.max(1, layers);
  }

  /**
   * Runs {@code pass} on row chunks of at most {@code rows} rows (each estimated at {@code bytesPerRow})
   * and concatenates each output along axis 0.
   */
  public static List<INDArray> inChunks(TokenInputs in, int rows, double bytesPerRow,
      Function<TokenInputs, List<INDArray>> pass) {
    if (in.batch() <= rows) {
      return collectAfter(pass.apply(in), in.batch() * bytesPerRow);
    }
    List<List<INDArray>> parts = new ArrayList<>();
    for (int start = 0; start < in.batch(); start += rows) {
      int end = Math.min(in.batch(), start + rows);
      parts.add(collectAfter(pass.apply(in.rows(start, end)), (end - start) * bytesPerRow));
    }
    List<INDArray> out = new ArrayList<>();
    for (int k = 0; k < parts.get(0).size(); k++) {
      INDArray[] pieces = new INDArray[parts.size()];
      for (int p = 0; p < parts.size(); p++) {
        pieces[p] = parts.get(p).get(k);
      }
      out.add(Nd4j.concat(0, pieces));
    }
    return out;
  }

  private static <T> T collectAfter(T result, double passBytes) {
    if (passBytes > gcAfterBytes()) {
      System.gc();
    }
    return result;
  }
}
