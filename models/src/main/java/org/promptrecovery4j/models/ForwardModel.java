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

  /**
   * {@link #forward(INDArray, INDArray)} with BERT-style {@code token_type_ids} ([B, L] segment ids; null = all
   * zeros). Models without token types refuse non-null ones.
   */
  default Map<String, Object> forward(INDArray inputIds, INDArray attentionMask, INDArray tokenTypeIds) {
    if (tokenTypeIds != null) {
      throw new IllegalArgumentException(getClass().getSimpleName() + ": this model has no token types;"
          + " token_type_ids cannot be given");
    }
    return forward(inputIds, attentionMask);
  }

  @Override
  default void close() {}
}
