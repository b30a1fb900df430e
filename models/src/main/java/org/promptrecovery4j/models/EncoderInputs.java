package org.promptrecovery4j.models;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Token ids and attention mask checked for an encoder (raw-ids path): rank 2, same shape, at least one
 * token, ids within the vocabulary. An input the model cannot take is an {@link IllegalArgumentException}
 * naming the problem, never a native crash. Ids come back as INT, the mask as FLOAT (1 token, 0 padding).
 */
public record EncoderInputs(INDArray ids, INDArray mask) {

  public int batch() {
    return (int) ids.size(0);
  }

  public int length() {
    return (int) ids.size(1);
  }

  /** Checks and converts; a null mask means all ones. */
  public static EncoderInputs check(INDArray inputIds, INDArray attentionMask, int vocabSize, String model) {
    if (inputIds == null) {
      throw new IllegalArgumentException(model + ": input_ids is missing");
    }
    if (inputIds.rank() != 2) {
      throw new IllegalArgumentException(model + ": input_ids must be [batch, length], is " + Arrays.toString(inputIds.shape()));
    }
    if (inputIds.size(0) == 0 || inputIds.size(1) == 0) {
      throw new IllegalArgumentException(model + ": input_ids is empty " + Arrays.toString(inputIds.shape()));
    }
    if (attentionMask != null && !Arrays.equals(inputIds.shape(), attentionMask.shape())) {
      throw new IllegalArgumentException(model + ": attention_mask " + Arrays.toString(attentionMask.shape())
          + " does not match input_ids " + Arrays.toString(inputIds.shape()));
    }
    long[] ids = inputIds.dup('c').castTo(DataType.LONG).data().asLong();
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= vocabSize) {
        throw new IllegalArgumentException(model + ": token id " + ids[i] + " at position " + i
            + " is outside the vocabulary [0, " + vocabSize + ")");
      }
    }
    INDArray mask;
    if (attentionMask == null) {
      mask = Nd4j.ones(DataType.FLOAT, inputIds.shape());
    } else {
      mask = attentionMask.dup('c').castTo(DataType.FLOAT);
      for (float m : mask.data().asFloat()) {
        if (m != 0f && m != 1f) {
          throw new IllegalArgumentException(model + ": attention_mask must hold only 0 and 1, found " + m);
        }
      }
    }
    return new EncoderInputs(inputIds.dup('c').castTo(DataType.INT), mask);
  }
}
