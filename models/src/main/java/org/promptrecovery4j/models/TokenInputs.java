package org.promptrecovery4j.models;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Token ids and attention mask checked for any model (encoders and causal LMs alike): rank 2, same
 * shape, at least one token, a 0/1 mask, ids within the rows of the loaded embedding table
 * ({@link Vocabulary}). An input the model cannot take is an {@link IllegalArgumentException} naming the
 * problem, raised before anything reaches ND4J's natives, never a native crash. Ids come back as INT,
 * the mask as FLOAT (1 token, 0 padding). BERT-style {@code token_type_ids} (segment ids) are optional: null
 * means all zeros.
 */
public record TokenInputs(INDArray ids, INDArray mask, INDArray tokenTypes) {

  public TokenInputs(INDArray ids, INDArray mask) {
    this(ids, mask, null);
  }

  /**
   * These inputs with {@code token_type_ids} checked against a model with {@code typeVocabSize} token types
   * (same shape as the ids, integers in [0, typeVocabSize)); null leaves them all zeros.
   */
  public TokenInputs withTokenTypes(INDArray tokenTypeIds, int typeVocabSize, String model) {
    if (tokenTypeIds == null) {
      return this;
    }
    if (typeVocabSize < 1) {
      throw new IllegalArgumentException(model + ": this model has no token types; token_type_ids cannot be given");
    }
    if (!Arrays.equals(tokenTypeIds.shape(), ids.shape())) {
      throw new IllegalArgumentException(model + ": token_type_ids " + Arrays.toString(tokenTypeIds.shape())
          + " does not match input_ids " + Arrays.toString(ids.shape()));
    }
    double[] values = tokenTypeIds.dup('c').castTo(DataType.DOUBLE).data().asDouble();
    int length = length();
    for (int i = 0; i < values.length; i++) {
      if (values[i] != Math.rint(values[i]) || values[i] < 0 || values[i] >= typeVocabSize) {
        throw new IllegalArgumentException(model + ": token type " + values[i] + " at row " + i / length + ", position "
            + i % length + " is outside [0, " + typeVocabSize + ") (type_vocab_size)");
      }
    }
    return new TokenInputs(ids, mask, tokenTypeIds.dup('c').castTo(DataType.INT));
  }

  /** Rows {@code [start, end)} of every input. */
  public TokenInputs rows(int start, int end) {
    org.nd4j.linalg.indexing.INDArrayIndex[] rows = {
        org.nd4j.linalg.indexing.NDArrayIndex.interval(start, end), org.nd4j.linalg.indexing.NDArrayIndex.all()};
    return new TokenInputs(ids.get(rows).dup('c'), mask.get(rows).dup('c'),
        tokenTypes == null ? null : tokenTypes.get(rows).dup('c'));
  }

  public int batch() {
    return (int) ids.size(0);
  }

  public int length() {
    return (int) ids.size(1);
  }

  /** Checks and converts; a null mask means all ones. */
  public static TokenInputs check(INDArray inputIds, INDArray attentionMask, Vocabulary vocabulary) {
    long[] ids = checkIds(inputIds, vocabulary);
    String model = vocabulary.model();
    if (attentionMask != null && !Arrays.equals(inputIds.shape(), attentionMask.shape())) {
      throw new IllegalArgumentException(model + ": attention_mask " + Arrays.toString(attentionMask.shape())
          + " does not match input_ids " + Arrays.toString(inputIds.shape()));
    }
    INDArray mask;
    if (attentionMask == null) {
      mask = Nd4j.ones(DataType.FLOAT, inputIds.shape());
    } else {
      double[] values = attentionMask.dup('c').castTo(DataType.DOUBLE).data().asDouble();
      for (int i = 0; i < values.length; i++) {
        if (values[i] != 0 && values[i] != 1) {
          throw new IllegalArgumentException(model + ": attention_mask must hold only 0 and 1, found " + values[i]
              + " at row " + i / inputIds.size(1) + ", position " + i % inputIds.size(1));
        }
      }
      mask = attentionMask.dup('c').castTo(DataType.FLOAT);
    }
    return new TokenInputs(Nd4j.createFromArray(Arrays.stream(ids).mapToInt(i -> (int) i).toArray())
        .reshape(inputIds.shape()), mask);
  }

  /**
   * Checks {@code input_ids} alone (rank 2, non-empty, integral, within the vocabulary) and returns them
   * row-major as longs.
   */
  public static long[] checkIds(INDArray inputIds, Vocabulary vocabulary) {
    String model = vocabulary.model();
    if (inputIds == null) {
      throw new IllegalArgumentException(model + ": input_ids is missing");
    }
    if (inputIds.rank() != 2) {
      throw new IllegalArgumentException(model + ": input_ids must be [batch, length], is " + Arrays.toString(inputIds.shape()));
    }
    if (inputIds.size(0) == 0 || inputIds.size(1) == 0) {
      throw new IllegalArgumentException(model + ": input_ids is empty " + Arrays.toString(inputIds.shape()));
    }
    int length = (int) inputIds.size(1);
    long[] ids;
    if (inputIds.dataType().isIntType()) {
      ids = inputIds.dup('c').castTo(DataType.LONG).data().asLong();
    } else {
      // float ids: the value as given, so 1.5 or 1e30 is named, not truncated by a cast
      double[] values = inputIds.dup('c').castTo(DataType.DOUBLE).data().asDouble();
      ids = new long[values.length];
      for (int i = 0; i < values.length; i++) {
        if (values[i] != Math.rint(values[i]) || Math.abs(values[i]) > 1L << 53) {
          throw new IllegalArgumentException(model + ": token id " + values[i] + " at row " + i / length + ", position "
              + i % length + " is not an integer in the vocabulary [0, " + vocabulary.size() + ") of " + vocabulary.table());
        }
        ids[i] = (long) values[i];
      }
    }
    vocabulary.check(ids, length);
    return ids;
  }
}
