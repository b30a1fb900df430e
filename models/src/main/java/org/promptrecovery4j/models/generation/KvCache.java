package org.promptrecovery4j.models.generation;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Keys and values of every layer for the tokens seen so far: [B, KV heads, T, headDim] each, as the
 * graph returns them (the graph appends the new tokens' keys). Rows can be dropped when they finish.
 */
public final class KvCache implements AutoCloseable {

  private final INDArray[] keys;
  private final INDArray[] values;

  public KvCache(INDArray[] keys, INDArray[] values) {
    this.keys = keys;
    this.values = values;
  }

  public static INDArray empty(int batch, CausalLM.Dims dims) {
    return Nd4j.create(DataType.FLOAT, batch, dims.numKvHeads(), 0, dims.headDim());
  }

  public INDArray keys(int layer) {
    return keys[layer];
  }

  public INDArray values(int layer) {
    return values[layer];
  }

  /** Cached tokens (T). */
  public long length() {
    return keys[0].size(2);
  }

  public long batch() {
    return keys[0].size(0);
  }

  /** A cache of only the given rows, in that order. */
  public KvCache select(int[] rows) {
    INDArray[] k = new INDArray[keys.length];
    INDArray[] v = new INDArray[values.length];
    for (int i = 0; i < keys.length; i++) {
      k[i] = selectRows(keys[i], rows);
      v[i] = selectRows(values[i], rows);
    }
    return new KvCache(k, v);
  }

  /**
   * Frees the arrays now: ND4J frees native memory only when the Java objects are collected, and a
   * roomy heap rarely collects, so caches left to the GC pile up native memory step after step.
   */
  @Override
  public void close() {
    for (INDArray[] arrays : new INDArray[][] {keys, values}) {
      for (INDArray a : arrays) {
        if (a != null && a.closeable()) {
          a.close();
        }
      }
    }
  }

  private static INDArray selectRows(INDArray a, int[] rows) {
    long[] shape = a.shape();
    INDArray flat = a.reshape('c', shape[0], shape[1] * shape[2] * shape[3]);
    INDArray picked = Nd4j.pullRows(flat, 1, rows);
    return picked.reshape('c', rows.length, shape[1], shape[2], shape[3]);
  }
}
