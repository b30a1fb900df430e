package org.promptrecovery4j.models;

import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An encoder whose SameDiff graph other modules extend (sentence-transformers pooling, task heads):
 * the graph, its final token states and mask input, and the placeholder values for a checked input.
 */
public interface GraphEncoder {

  SameDiff graph();

  /** [B, L, hidden] token states after the encoder's final norm. */
  SDVariable tokenStates();

  /** The outputs of the graph's HF modules (what a forward pass can capture). */
  org.promptrecovery4j.models.nn.ModuleOutputs moduleOutputs();

  /** The [B, L] float attention-mask placeholder (1 token, 0 padding). */
  SDVariable maskInput();

  int hiddenSize();

  /** The ids the encoder embeds: the rows of its loaded embedding table. */
  Vocabulary vocabulary();

  /** Rows per graph execution at this length, so that one pass's activations stay within budget. */
  int rowsPerPass(int length);

  /** Estimated activation bytes of one row in one pass at this length. */
  double bytesPerRow(int length);

  /** Token types ({@code type_vocab_size}) the encoder embeds; 0 when it has none (T5, DeBERTa-v3). */
  default int typeVocabSize() {
    return 0;
  }

  /** Placeholder values for one batch (ids, mask and whatever position tables the graph needs). */
  Map<String, INDArray> feed(TokenInputs inputs);
}
