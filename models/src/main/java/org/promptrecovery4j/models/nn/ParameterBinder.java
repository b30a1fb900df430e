package org.promptrecovery4j.models.nn;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.Progress;
import org.promptrecovery4j.weights.ModelFormatException;
import org.promptrecovery4j.weights.WeightSource;

/**
 * Brings HF-named tensors of a checkpoint into a graph, as float32: frozen ones as constants,
 * trainable ones (chosen by a name predicate) as variables. Each tensor is loaded once.
 *
 * <p>With {@link LinearPrecision#BF16}, frozen linear weights ({@link #linearWeight}) are held in bf16 instead,
 * rounded to nearest even from the checkpoint's values, and {@link Linear} multiplies by them in bf16 (packed for
 * oneDNN 3.3 where it is usable, {@link #packed}); every other tensor, and every trainable one, stays float32.
 *
 * <p>A name missing from the checkpoint is an error naming the tensor and the checkpoint; names may
 * be tried with and without a prefix (e.g. {@code deberta.}) through {@link #resolve}. Loading shows a
 * progress line for checkpoints that take more than a second; {@link #close} ends it.
 */
public final class ParameterBinder implements AutoCloseable {

  private final SameDiff sd;
  private final WeightSource weights;
  private final Predicate<String> trainable;
  private final LinearPrecision precision;
  private final Map<String, SDVariable> bound = new LinkedHashMap<>();
  private final java.util.Set<String> transposed = new java.util.LinkedHashSet<>();
  private final Map<String, OneDnn.PackedWeight> packed = new java.util.HashMap<>();
  private final Progress progress;
  private ModuleOutputs outputs = new ModuleOutputs("");

  public ParameterBinder(SameDiff sd, WeightSource weights, Predicate<String> trainable) {
    this(sd, weights, trainable, LinearPrecision.FLOAT32);
  }

  /** {@link #ParameterBinder(SameDiff, WeightSource, Predicate)} with frozen linear weights held in {@code precision}. */
  public ParameterBinder(SameDiff sd, WeightSource weights, Predicate<String> trainable, LinearPrecision precision) {
    this.sd = sd;
    this.weights = weights;
    this.trainable = trainable;
    this.precision = precision;
    long total = 0;
    for (String n : weights.names()) {
      total += weights.info(n).byteLength();
    }
    this.progress = Progress.start("Loading " + weights.location().getFileName(), total, Progress.Unit.BYTES);
  }

  /** All parameters frozen. */
  public ParameterBinder(SameDiff sd, WeightSource weights) {
    this(sd, weights, name -> false);
  }

  public SameDiff graph() {
    return sd;
  }

  /** Where the graph's modules register their outputs under HF names (see {@link ModuleOutputs}). */
  public ModuleOutputs outputs() {
    return outputs;
  }

  /** Names of this checkpoint's tensors start with {@code prefix} (e.g. {@code deberta.}); call before building. */
  public void modulePrefix(String prefix) {
    if (!outputs.names().isEmpty()) {
      throw new IllegalStateException("modulePrefix after modules were registered");
    }
    this.outputs = new ModuleOutputs(prefix);
  }

  public WeightSource weights() {
    return weights;
  }

  /** The precision of frozen linear weights. */
  public LinearPrecision precision() {
    return precision;
  }

  /** The first of {@code candidates} that the checkpoint holds; an error listing them if none. */
  public String resolve(String... candidates) {
    for (String c : candidates) {
      if (weights.contains(c)) {
        return c;
      }
    }
    throw new ModelFormatException(weights.location() + ": missing tensor " + String.join(" or ", candidates));
  }

  public boolean has(String name) {
    return weights.contains(name);
  }

  /**
   * Checks a tensor's shape against what the config implies, before it is loaded: {@code -1} in
   * {@code expected} matches any size. A disagreement is a {@link ModelFormatException} naming the tensor,
   * the checkpoint and {@code why} (the config values), never an ND4J shape error later. Absent tensors pass
   * (they are reported where they are needed).
   */
  public static void expectShape(WeightSource weights, String name, String why, long... expected) {
    if (!weights.contains(name)) {
      return;
    }
    long[] shape = weights.info(name).shape();
    boolean ok = shape.length == expected.length;
    for (int i = 0; ok && i < shape.length; i++) {
      ok = expected[i] < 0 || expected[i] == shape[i];
    }
    if (!ok) {
      StringBuilder want = new StringBuilder("[");
      for (int i = 0; i < expected.length; i++) {
        want.append(i > 0 ? ", " : "").append(expected[i] < 0 ? "*" : String.valueOf(expected[i]));
      }
      throw new ModelFormatException(weights.location() + ": tensor '" + name + "' is "
          + java.util.Arrays.toString(shape) + ", but config.json (" + why + ") implies " + want.append(']'));
    }
  }

  /** {@link #expectShape(WeightSource, String, String, long...)} on this binder's checkpoint. */
  public void expectShape(String name, String why, long... expected) {
    expectShape(weights, name, why, expected);
  }

  /** The tensor as stored (float32), bound under its HF name. */
  public SDVariable parameter(String name) {
    return bound.computeIfAbsent(name, n -> bind(n, load(n)));
  }

  /**
   * A {@code [out, in]} linear weight, bound transposed as {@code [in, out]} under {@code name}: float32, or bf16
   * (rounded to nearest even) when frozen and the precision is {@link LinearPrecision#BF16}.
   */
  public SDVariable linearWeight(String name) {
    return bound.computeIfAbsent(name, n -> {
      INDArray w = load(n);
      if (w.rank() != 2) {
        throw new ModelFormatException(weights.location() + ": tensor '" + n + "' should be 2-D [out, in], is "
            + java.util.Arrays.toString(w.shape()));
      }
      transposed.add(n);
      INDArray t = w.transpose().dup('c');
      if (precision == LinearPrecision.BF16 && !trainable.test(n)) {
        INDArray b = t.castTo(DataType.BFLOAT16); // round to nearest even
        t.close();
        t = b;
        if (OneDnn.available()) {
          OneDnn.PackedWeight packed = OneDnn.pack(b);
          b.close();
          this.packed.put(n, packed);
          t = packed.array();
        }
      }
      return bind(n, t);
    });
  }

  /**
   * The oneDNN 3.3 packing of frozen bf16 linear weight {@code name} ({@link OneDnn}: bound as its packed bytes, a 1-D
   * array, and multiplied by {@link PackedLinearOp}), or null when it is held as a plain {@code [in, out]} matrix.
   */
  public OneDnn.PackedWeight packed(String name) {
    return packed.get(name);
  }

  /** Whether {@code name} was bound by {@link #linearWeight}, i.e. is held transposed ({@code [in, out]}). */
  public boolean isTransposed(String name) {
    return transposed.contains(name);
  }

  private INDArray load(String name) {
    if (!weights.contains(name)) {
      throw new ModelFormatException(weights.location() + ": missing tensor '" + name + "'");
    }
    INDArray value = weights.loadFloat(name);
    progress.advance(weights.info(name).byteLength());
    return value;
  }

  private SDVariable bind(String name, INDArray value) {
    return trainable.test(name) ? sd.var(name, value) : sd.constant(name, value);
  }

  /** Ends the loading progress line. */
  @Override
  public void close() {
    progress.close();
  }

  /** Names bound so far (for reports and for finding unused checkpoint tensors). */
  public Map<String, SDVariable> bound() {
    return java.util.Collections.unmodifiableMap(bound);
  }
}
