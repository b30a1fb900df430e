package org.promptrecovery4j.models.nn;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * HuggingFace {@code nn.Linear}: {@code y = x W^T + b} over the last axis of an input of any rank.
 *
 * <p>The weight is held transposed ({@code [in, out]}) so the product is one plain GEMM on the input
 * flattened to {@code [N, in]} (SameDiff's rank-3 × rank-2 mmul fails). Adapters registered with
 * {@link #addAdapter} before the layer is applied add their output (LoRA); whether the weight is a
 * frozen constant or a trainable variable is decided by the {@link ParameterBinder} that made it.
 *
 * <p>A bf16 weight ({@link LinearPrecision#BF16}) is multiplied in bf16: the [N, in] input is cast to bf16, the
 * GEMM (oneDNN: float32 accumulation, bf16 result) is cast back to float32, then the float32 bias and the adapters
 * (on the float32 input) are added as for a float32 weight. Where oneDNN 3.3 is usable the weight is packed at
 * load and the three steps are one {@link PackedLinearOp}, with the same roundings.
 */
public final class Linear {

  private final String name;
  private final SDVariable weightT;
  private final SDVariable bias;
  private final long inFeatures;
  private final long outFeatures;
  private final List<LinearAdapter> adapters = new ArrayList<>();
  private ModuleOutputs outputs;
  private OneDnn.PackedWeight packed;

  public Linear(String name, SDVariable weightT, SDVariable bias, long inFeatures, long outFeatures) {
    this.name = name;
    this.weightT = weightT;
    this.bias = bias;
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
  }

  /** Binds HF weights {@code <prefix>.weight} [out, in] and, if {@code withBias}, {@code <prefix>.bias}. */
  public static Linear load(ParameterBinder p, String prefix, boolean withBias) {
    SDVariable w = p.linearWeight(prefix + ".weight");
    OneDnn.PackedWeight packed = p.packed(prefix + ".weight");
    long[] shape = packed != null ? new long[] {packed.k(), packed.n()} : w.getShape();
    SDVariable b = withBias ? p.parameter(prefix + ".bias") : null;
    Linear linear = new Linear(prefix, w, b, shape[0], shape[1]);
    linear.outputs = p.outputs();
    linear.packed = packed;
    return linear;
  }

  public String name() {
    return name;
  }

  public long inFeatures() {
    return inFeatures;
  }

  public long outFeatures() {
    return outFeatures;
  }

  /** The weight as bound: {@code [in, out]}, or, when {@link #packed()} is not null, its packed bytes (1-D bf16). */
  public SDVariable weightT() {
    return weightT;
  }

  /** The weight's oneDNN 3.3 packing ({@link OneDnn}), or null: held plainly. */
  public OneDnn.PackedWeight packed() {
    return packed;
  }

  public void addAdapter(LinearAdapter adapter) {
    adapters.add(adapter);
  }

  /** Applies the layer to {@code x} of rank {@code rank} (features on the last axis). */
  public SDVariable forward(SDVariable x, int rank) {
    SameDiff sd = x.getSameDiff();
    SDVariable x2d = rank == 2 ? x : x.reshape(-1, inFeatures);
    SDVariable y = packed != null ? PackedLinearOp.apply(x2d, weightT, packed)
        : weightT.dataType() == DataType.BFLOAT16 ? sd.mmul(x2d.castTo(DataType.BFLOAT16), weightT).castTo(DataType.FLOAT)
        : sd.mmul(x2d, weightT);
    if (bias != null) {
      y = y.add(bias);
    }
    for (LinearAdapter a : adapters) {
      y = y.add(a.delta(this, x2d));
    }
    if (rank != 2) {
      SDVariable leading = sd.shape(x).get(SDIndex.interval(0, rank - 1));
      SDVariable outShape = sd.concat(0, leading, sd.constant(Nd4j.createFromArray(outFeatures).castTo(leading.dataType())));
      y = y.reshape(outShape);
    }
    return outputs == null ? y : outputs.put(name, y);
  }
}
