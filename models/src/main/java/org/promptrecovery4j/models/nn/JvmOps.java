package org.promptrecovery4j.models.nn;

import java.lang.reflect.Field;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.cpu.nativecpu.ops.NativeOpExecutioner;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Graph ops computed in Java ({@link PackedLinearOp}, {@link PackedGatedMlpOp}, {@link OneDnnAttentionOp}, {@link ConcatOp}): SameDiff M2.1 runs every op in
 * libnd4j and has no hook for an op implemented elsewhere, so {@link #install()} replaces ND4J's CPU op executioner
 * by a subclass that runs the ops implementing {@link Op} itself and hands every other op to ND4J unchanged.
 */
public final class JvmOps {

  /** An op whose outputs are computed in Java from its inputs; SameDiff has allocated {@code outputs}. */
  public interface Op {
    void compute(INDArray[] inputs, INDArray[] outputs);
  }

  /**
   * What the ops computed in Java share: one output, its shape and data type computed from the inputs' arrays
   * ({@link #outputShape}, float32 unless {@link #outputType} says otherwise), SameDiff's two shape entry points.
   */
  public abstract static class BaseOp extends org.nd4j.linalg.api.ops.DynamicCustomOp implements Op {

    /** For ND4J's reflection only. */
    protected BaseOp() {}

    protected BaseOp(org.nd4j.autodiff.samediff.SameDiff sd, org.nd4j.autodiff.samediff.SDVariable... inputs) {
      super(sd, inputs);
    }

    /** The output's shape and data type for these inputs; a mismatch is an error naming the op and the shapes. */
    protected abstract org.nd4j.linalg.api.shape.LongShapeDescriptor outputShape(INDArray[] inputs);

    /** The output's data type from the inputs' (float32 unless overridden). */
    protected DataType outputType(java.util.List<DataType> inputs) {
      return DataType.FLOAT;
    }

    @Override
    public int getNumOutputs() {
      return 1;
    }

    @Override
    public java.util.List<DataType> calculateOutputDataTypes(java.util.List<DataType> inputs) {
      return java.util.List.of(outputType(inputs));
    }

    @Override
    public java.util.List<org.nd4j.linalg.api.shape.LongShapeDescriptor> calculateOutputShape(OpContext oc) {
      return java.util.List.of(outputShape(oc.getInputArrays().toArray(INDArray[]::new)));
    }

    @Override
    public java.util.List<org.nd4j.linalg.api.shape.LongShapeDescriptor> calculateOutputShape() {
      return java.util.List.of(outputShape(inputArguments().toArray(INDArray[]::new)));
    }
  }

  private JvmOps() {}

  /**
   * Puts {@link Executioner} in place of ND4J's CPU executioner (once); false if the backend is not ND4J's CPU
   * one (CUDA), whose executioner is left alone.
   */
  static synchronized boolean install() throws ReflectiveOperationException {
    Object current = Nd4j.getExecutioner();
    if (current instanceof Executioner) {
      return true;
    }
    if (current.getClass() != NativeOpExecutioner.class) {
      return false;
    }
    Field f = Nd4j.class.getDeclaredField("OP_EXECUTIONER_INSTANCE");
    f.setAccessible(true);
    Executioner replacement = new Executioner();
    replacement.setProfilingMode(((NativeOpExecutioner) current).getProfilingMode());
    f.set(null, replacement);
    return true;
  }

  /** ND4J's CPU executioner, except that it runs {@link Op}s in Java. */
  static final class Executioner extends NativeOpExecutioner {
    @Override
    public INDArray[] exec(CustomOp op, OpContext context) {
      if (op instanceof Op j) {
        INDArray[] in = context.getInputArrays().toArray(INDArray[]::new);
        INDArray[] out = context.getOutputArrays().toArray(INDArray[]::new);
        j.compute(in, out);
        return out;
      }
      return super.exec(op, context);
    }

    @Override
    public INDArray[] exec(CustomOp op) {
      if (op instanceof Op j) {
        if (op.outputArguments().isEmpty()) {
          for (var shape : op.calculateOutputShape()) {
            op.addOutputArgument(Nd4j.createUninitialized(shape.dataType(), shape.getShape(), 'c'));
          }
        }
        INDArray[] out = op.outputArguments().toArray(INDArray[]::new);
        j.compute(op.inputArguments().toArray(INDArray[]::new), out);
        return out;
      }
      return super.exec(op);
    }
  }

  static void checkFloat(String op, INDArray... arrays) {
    for (INDArray a : arrays) {
      if (a.dataType() != DataType.FLOAT) {
        throw new IllegalArgumentException(op + ": float32 inputs only, got " + a.dataType());
      }
    }
  }

  /** Whether {@code a} is a c-order array of its own (no view, offset 0): what the ops computed in Java read and write. */
  static boolean isPlain(INDArray a) {
    return !a.isView() && a.ordering() == 'c' && a.offset() == 0;
  }

  /** {@code a} itself where {@link #isPlain} or empty, else a c-order copy (the caller closes it). */
  static INDArray plain(INDArray a) {
    return a.isEmpty() || isPlain(a) ? a : a.dup('c');
  }

  /**
   * Runs {@code compute} on plain forms of {@code inputs} ({@link #plain}) and of {@code out} (itself, or a plain array
   * of its shape and type copied into it afterwards); the copies are closed, also on failure.
   */
  static void onPlain(INDArray[] inputs, INDArray out, java.util.function.BiConsumer<INDArray[], INDArray> compute) {
    INDArray[] in = new INDArray[inputs.length];
    INDArray target = null;
    try {
      for (int i = 0; i < inputs.length; i++) {
        in[i] = plain(inputs[i]);
      }
      target = isPlain(out) ? out : Nd4j.createUninitialized(out.dataType(), out.shape(), 'c');
      compute.accept(in, target);
      if (target != out) {
        out.assign(target);
      }
    } finally {
      for (int i = 0; i < inputs.length; i++) {
        if (in[i] != null && in[i] != inputs[i]) {
          in[i].close();
        }
      }
      if (target != null && target != out) {
        target.close();
      }
    }
  }
}
