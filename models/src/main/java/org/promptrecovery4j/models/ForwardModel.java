package org.promptrecovery4j.models;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A loaded model that runs a forward pass on token ids, as the {@code forward} command does. The
 * graph is built once at load and reused for every batch size and length.
 */
public interface ForwardModel extends AutoCloseable {

  /**
   * Runs the model. {@code inputIds} and {@code attentionMask} are [B, L] integer arrays (1 = token,
   * 0 = padding). The result maps output names to tensors ({@link INDArray}) or lists of tensors, in
   * the order the {@code forward} command writes them, e.g. {@code last_hidden_state} and
   * {@code hidden_states} for encoders, {@code logits} for causal LMs.
   */
  Map<String, Object> forward(INDArray inputIds, INDArray attentionMask);

  @Override
  default void close() {}
}
