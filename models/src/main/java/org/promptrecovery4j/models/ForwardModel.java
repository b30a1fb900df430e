package org.promptrecovery4j.models;

import java.util.Collection;
import java.util.List;
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

  /**
   * {@link #forward(INDArray, INDArray, INDArray)} and, after its outputs, the outputs of the HF modules whose names
   * match {@code capture} ({@link org.promptrecovery4j.models.nn.ModuleOutputs}: names such as
   * {@code model.layers.3.self_attn.o_proj}, globs such as {@code model.layers.*.mlp}), in model order, shaped as
   * HF's module outputs. A pattern no module matches is an {@link IllegalArgumentException} naming close matches.
   */
  default Map<String, Object> forward(INDArray inputIds, INDArray attentionMask, INDArray tokenTypeIds,
      Collection<String> capture) {
    if (capture != null && capture.stream().anyMatch(p -> !p.isBlank())) {
      throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot capture module outputs");
    }
    return forward(inputIds, attentionMask, tokenTypeIds);
  }

  /** The HF module names {@link #forward(INDArray, INDArray, INDArray, Collection)} can capture, in model order. */
  default List<String> capturableModules() {
    return List.of();
  }

  @Override
  default void close() {}
}
