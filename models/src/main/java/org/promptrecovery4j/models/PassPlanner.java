package org.promptrecovery4j.models;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Splits a large batch into row chunks run one after another, so that a forward pass's activations
 * stay within a budget: SameDiff M2.1 frees few intermediates during one {@code output} call
 * (measured: DeBERTa-v3-large at 1 × 384 tokens holds ≈ 4 GB of activations, which grows linearly with
 * rows; 4 × 384 in one pass was killed at 20 GB). Results are concatenated in row order.
 *
 * <p>The budget is {@code -Dpr4j.activationBudgetMB} (default 3072).
 */
public final class PassPlanner {

  private PassPlanner() {}

  public static long budgetBytes() {
    return Long.getLong("pr4j.activationBudgetMB", 3072L) << 20;
  }

  /**
   * Rows per pass for attention scores of {@code heads × L × L} per layer, {@code bytesPerScore} bytes of
   * live activations per score element and layer (measured per architecture).
   */
  public static int rowsPerPass(int length, int heads, int layers, int bytesPerScore) {
    double perRow = (double) bytesPerScore * length * length * heads * Math.max(1, layers);
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, budgetBytes() / perRow));
  }

  /** Runs {@code pass} on row chunks of at most {@code rows} rows and concatenates each output along axis 0. */
  public static List<INDArray> inChunks(EncoderInputs in, int rows, Function<EncoderInputs, List<INDArray>> pass) {
    if (in.batch() <= rows) {
      return pass.apply(in);
    }
    List<List<INDArray>> parts = new ArrayList<>();
    for (int start = 0; start < in.batch(); start += rows) {
      int end = Math.min(in.batch(), start + rows);
      parts.add(pass.apply(new EncoderInputs(
          in.ids().get(NDArrayIndex.interval(start, end), NDArrayIndex.all()).dup('c'),
          in.mask().get(NDArrayIndex.interval(start, end), NDArrayIndex.all()).dup('c'))));
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
}
