package org.promptrecovery4j.models.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Rotary position embeddings in HF's {@code rotate_half} layout, with partial rotary dims (phi).
 *
 * <p>In the graph RoPE is {@code x·cos + (x R)·sin} on {@code [N, heads, headDim]}: {@code R} is the fixed
 * {@code [headDim, headDim]} matrix of {@code rotate_half} over the first {@code rotaryDim} dims, and
 * cos/sin are fed per token as {@code [N, 1, headDim]} with {@code cos = 1, sin = 0} past the rotary dims,
 * so the pass-through part of partial rotary needs no slicing. cos/sin are computed here in float32 the
 * way HF's {@code _compute_default_rope_parameters} and {@code RotaryEmbedding.forward} do.
 */
public final class Rotary {

  private final int headDim;
  private final int rotaryDim;
  private final float[] invFreq;

  public Rotary(int headDim, int rotaryDim, double theta) {
    if (rotaryDim <= 0 || rotaryDim > headDim || rotaryDim % 2 != 0) {
      throw new IllegalArgumentException("rotary dim " + rotaryDim + " must be even and in (0, " + headDim + "]");
    }
    this.headDim = headDim;
    this.rotaryDim = rotaryDim;
    this.invFreq = new float[rotaryDim / 2];
    for (int i = 0; i < invFreq.length; i++) {
      float exponent = (float) (2 * i) / (float) rotaryDim;
      invFreq[i] = 1.0f / (float) Math.pow(theta, exponent);
    }
  }

  public int headDim() {
    return headDim;
  }

  public int rotaryDim() {
    return rotaryDim;
  }

  /** {@code R} with {@code (x R)[i] = -x[i + r/2]} for {@code i < r/2}, {@code x[i - r/2]} for {@code r/2 ≤ i < r}, 0 after. */
  public INDArray rotateHalfMatrix() {
    float[] m = new float[headDim * headDim];
    int half = rotaryDim / 2;
    for (int i = 0; i < half; i++) {
      m[(i + half) * headDim + i] = -1f; // column i takes -x[i + half]
      m[i * headDim + (i + half)] = 1f; // column i + half takes x[i]
    }
    return Nd4j.create(m, new long[] {headDim, headDim}, 'c');
  }

  /** cos and sin for each position, as {@code [positions.length, 1, headDim]} float arrays {cos, sin}. */
  public INDArray[] cosSin(int[] positions) {
    int n = positions.length;
    float[] cos = new float[n * headDim];
    float[] sin = new float[n * headDim];
    int half = rotaryDim / 2;
    for (int t = 0; t < n; t++) {
      int base = t * headDim;
      for (int i = 0; i < half; i++) {
        float angle = (float) positions[t] * invFreq[i];
        float c = (float) Math.cos(angle);
        float s = (float) Math.sin(angle);
        cos[base + i] = c;
        cos[base + i + half] = c;
        sin[base + i] = s;
        sin[base + i + half] = s;
      }
      for (int i = rotaryDim; i < headDim; i++) {
        cos[base + i] = 1f;
      }
    }
    return new INDArray[] {
      Nd4j.create(cos, new long[] {n, 1, headDim}, 'c'), Nd4j.create(sin, new long[] {n, 1, headDim}, 'c')
    };
  }
}
