package org.promptrecovery4j.models.nn;

import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;

/**
 * Arrays of one data type joined along one axis by block copies, computed in Java ({@link JvmOps}): the decoders' KV
 * cache, {@code [B, KV, P, hd]} and the step's {@code [B, KV, S, hd]} into {@code [B, KV, P + S, hd]}, and the shape
 * vectors of their reshapes. ND4J's {@code concat} costs ~0.7 ms whatever the size (a decode step: 0.9 ms for a 0.4 MB
 * cache, ~10 µs of copying; 0.7 ms for a shape vector of four longs). Inference only, like every {@link JvmOps.Op}.
 */
public final class ConcatOp extends JvmOps.BaseOp {

  private int axis;

  /** For ND4J's reflection only. */
  public ConcatOp() {}

  private ConcatOp(SameDiff sd, SDVariable[] parts, int axis) {
    super(sd, parts);
    this.axis = axis;
  }

  /** {@code concat(axis, parts...)} as {@code sd.concat} computes it, for arrays of one rank and data type. */
  public static SDVariable apply(int axis, SDVariable... parts) {
    return new ConcatOp(parts[0].getSameDiff(), parts, axis).outputVariable();
  }

  /** Whether {@link #apply} runs here (ND4J's CPU backend, where {@link JvmOps} can run it). */
  public static boolean available() {
    return OneDnn.javaOpsInstalled();
  }

  @Override
  public String opName() {
    return "pr4j_concat";
  }

  @Override
  protected DataType outputType(List<DataType> inputs) {
    return inputs.get(0);
  }

  @Override
  protected LongShapeDescriptor outputShape(INDArray[] parts) {
    long[] s = parts[0].shape().clone();
    DataType type = parts[0].dataType();
    boolean fits = axis < s.length;
    for (int p = 1; fits && p < parts.length; p++) {
      long[] sp = parts[p].shape();
      fits = sp.length == s.length && parts[p].dataType() == type;
      for (int i = 0; fits && i < s.length; i++) {
        fits = i == axis || sp[i] == s[i];
      }
      if (fits) {
        s[axis] += sp[axis];
      }
    }
    if (!fits) {
      StringBuilder b = new StringBuilder();
      for (INDArray p : parts) {
        b.append(b.length() == 0 ? "" : " and ").append(p.dataType()).append(java.util.Arrays.toString(p.shape()));
      }
      throw new IllegalArgumentException(getOwnName() + ": cannot join " + b + " along axis " + axis);
    }
    return LongShapeDescriptor.fromShape(s, type);
  }

  @Override
  public void compute(INDArray[] inputs, INDArray[] outputs) {
    join(inputs, axis, outputs[0]);
  }

  /** {@code out = concat(axis, a, b)}; {@code out} c-order, {@code a} and {@code b} any layout (copied if strided). */
  static void join(INDArray a, INDArray b, int axis, INDArray out) {
    join(new INDArray[] {a, b}, axis, out);
  }

  /** {@code out = concat(axis, parts...)}; {@code out} any layout, the parts too (strided ones are copied first). */
  static void join(INDArray[] parts, int axis, INDArray out) {
    if (out.length() == 0) {
      return;
    }
    JvmOps.onPlain(parts, out, (plainParts, target) -> {
      long outer = 1;
      for (int i = 0; i < axis; i++) {
        outer *= out.size(i);
      }
      int width = out.dataType().width();
      long[] block = new long[parts.length];
      long row = 0;
      for (int p = 0; p < parts.length; p++) {
        block[p] = parts[p].length() / outer * width;
        row += block[p];
      }
      BytePointer dst = new BytePointer(target.data().addressPointer());
      BytePointer[] src = new BytePointer[parts.length];
      for (int p = 0; p < parts.length; p++) {
        src[p] = block[p] == 0 ? null : new BytePointer(plainParts[p].data().addressPointer());
      }
      for (long o = 0; o < outer; o++) {
        long at = o * row;
        for (int p = 0; p < parts.length; p++) {
          if (src[p] != null) {
            Pointer.memcpy(dst.position(at), src[p].position(o * block[p]), block[p]);
          }
          at += block[p];
        }
      }
    });
  }
}
