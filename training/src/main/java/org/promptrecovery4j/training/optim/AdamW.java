package org.promptrecovery4j.training.optim;

import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code torch.optim.AdamW} (amsgrad off, maximize off), as its single-tensor path computes it in float32, per
 * parameter and element:
 *
 * <pre>
 *   step += 1
 *   p   = p * (1 - lr * weight_decay)                   # decoupled weight decay, applied first
 *   m   = m.lerp(g, 1 - beta1)                           # = m + (1 - beta1) * (g - m)
 *   v   = v * beta2 + (1 - beta2) * g * g
 *   step_size = lr / (1 - beta1^step)
 *   denom     = sqrt(v) / sqrt(1 - beta2^step) + eps      # torch's epsilon placement
 *   p   = p - step_size * m / denom
 * </pre>
 *
 * The scalars are computed in double and rounded to float32 once, as PyTorch passes Python floats to its float32
 * kernels; the element updates are one pass over each parameter, in place, in plain float arithmetic on the arrays'
 * native buffers ({@link #updateRange}). ND4J's own {@code Adam}/{@code AdamW} updaters put epsilon elsewhere and are
 * not used.
 *
 * <p>The state (step and both moments per parameter) is exposed for checkpoints: {@link #state()} and
 * {@link #loadState(Map, Map)}.
 */
public final class AdamW {

  /** The optimiser's settings; {@code torch.optim.AdamW}'s defaults are lr 1e-3, betas (0.9, 0.999), eps 1e-8, wd 0.01. */
  public record Settings(double lr, double beta1, double beta2, double eps, double weightDecay) {
    public Settings {
      if (!(lr >= 0) || !(eps >= 0) || !(weightDecay >= 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
        throw new IllegalArgumentException("invalid AdamW settings: lr " + lr + ", betas " + beta1 + "," + beta2
            + ", eps " + eps + ", weight decay " + weightDecay + " (need lr, eps, weight decay >= 0 and betas in [0, 1))");
      }
    }

    /** The seed's settings with learning rate {@code lr}: betas 0.85/0.999, eps 1e-8, weight decay 0.005. */
    public static Settings seed(double lr) {
      return new Settings(lr, 0.85, 0.999, 1e-8, 0.005);
    }
  }

  /** One parameter's state, as {@code optimizer.state[p]}: {@code step}, {@code exp_avg}, {@code exp_avg_sq}. */
  public static final class ParamState {
    long step;
    final INDArray expAvg;
    final INDArray expAvgSq;

    ParamState(long step, INDArray expAvg, INDArray expAvgSq) {
      this.step = step;
      this.expAvg = expAvg;
      this.expAvgSq = expAvgSq;
    }

    public long step() {
      return step;
    }

    public INDArray expAvg() {
      return expAvg;
    }

    public INDArray expAvgSq() {
      return expAvgSq;
    }
  }

  /** Elements per task when a parameter is updated on several threads. */
  private static final int CHUNK = 1 << 16;

  private final Settings settings;
  private final Map<String, ParamState> state = new LinkedHashMap<>();

  public AdamW(Settings settings) {
    this.settings = settings;
  }

  public Settings settings() {
    return settings;
  }

  /** Per-parameter state by parameter name (live objects; empty before the first step). */
  public Map<String, ParamState> state() {
    return state;
  }

  /** Restores the state saved from {@link #state()}: the step count and both moments of each parameter. */
  public void loadState(Map<String, Long> steps, Map<String, INDArray[]> moments) {
    state.clear();
    steps.forEach((name, step) -> {
      INDArray[] mv = moments.get(name);
      if (mv == null) {
        throw new IllegalArgumentException("optimiser state: no moments for parameter " + name);
      }
      state.put(name, new ParamState(step, contiguous(mv[0]), contiguous(mv[1])));
    });
  }

  /**
   * One optimiser step over every parameter of {@code params} (updated in place) with its gradient in {@code grads}
   * (same names and shapes, FLOAT). A parameter without a gradient is skipped, as torch skips {@code p.grad is None}.
   */
  public void step(Map<String, INDArray> params, Map<String, INDArray> grads) {
    for (Map.Entry<String, INDArray> e : params.entrySet()) {
      INDArray g = grads.get(e.getKey());
      if (g == null) {
        continue;
      }
      INDArray p = e.getValue();
      checkFloat(e.getKey(), p, g);
      ParamState s = state.computeIfAbsent(e.getKey(), k -> new ParamState(0,
          Nd4j.zeros(DataType.FLOAT, p.shape()), Nd4j.zeros(DataType.FLOAT, p.shape())));
      s.step++;
      update(p, contiguous(g), s);
    }
  }

  private void update(INDArray param, INDArray grad, ParamState s) {
    Settings c = settings;
    double biasCorrection1 = 1 - Math.pow(c.beta1(), s.step);
    double biasCorrection2 = 1 - Math.pow(c.beta2(), s.step);
    Scalars k = new Scalars(
        (float) (1 - c.lr() * c.weightDecay()),
        (float) (1 - c.beta1()),
        (float) c.beta2(),
        (float) (1 - c.beta2()),
        (float) -(c.lr() / biasCorrection1),
        (float) Math.sqrt(biasCorrection2),
        (float) c.eps());
    FloatBuffer p = param.data().asNioFloat();
    FloatBuffer g = grad.data().asNioFloat();
    FloatBuffer m = s.expAvg.data().asNioFloat();
    FloatBuffer v = s.expAvgSq.data().asNioFloat();
    int n = (int) param.length();
    if (n <= CHUNK) {
      updateRange(k, p, g, m, v, 0, n);
    } else {
      IntStream.range(0, (n + CHUNK - 1) / CHUNK).parallel()
          .forEach(i -> updateRange(k, p, g, m, v, i * CHUNK, Math.min(n, (i + 1) * CHUNK)));
    }
  }

  /** The float32 scalars of one step, rounded once from double as PyTorch's kernels receive them. */
  record Scalars(float decay, float oneMinusBeta1, float beta2, float oneMinusBeta2, float negStepSize,
                 float biasCorrection2Sqrt, float eps) {}

  /** The element loop over {@code [from, to)}: torch's mul_, lerp_, mul_/addcmul_, sqrt/div/add_, addcdiv_. */
  static void updateRange(Scalars k, FloatBuffer p, FloatBuffer g, FloatBuffer m, FloatBuffer v, int from, int to) {
    for (int i = from; i < to; i++) {
      float gi = g.get(i);
      float pi = p.get(i) * k.decay();
      float mi = m.get(i);
      mi = Math.fma(k.oneMinusBeta1(), gi - mi, mi); // lerp with a small weight: torch's vector path uses an FMA
      float vi = v.get(i) * k.beta2() + k.oneMinusBeta2() * gi * gi;
      float denom = (float) Math.sqrt(vi) / k.biasCorrection2Sqrt() + k.eps();
      p.put(i, pi + k.negStepSize() * mi / denom);
      m.put(i, mi);
      v.put(i, vi);
    }
  }

  private static void checkFloat(String name, INDArray p, INDArray g) {
    if (p.dataType() != DataType.FLOAT || g.dataType() != DataType.FLOAT) {
      throw new IllegalArgumentException(name + ": AdamW updates FLOAT parameters, got " + p.dataType() + " / " + g.dataType());
    }
    if (p.length() != g.length()) {
      throw new IllegalArgumentException(name + ": gradient has " + g.length() + " values, the parameter " + p.length());
    }
    if (p.isView() || p.ordering() != 'c' || p.offset() != 0) {
      throw new IllegalArgumentException(name + ": the parameter must be a whole C-order array (not a view)");
    }
  }

  /** {@code a} itself when it is a whole C-order array, else a C-order copy (the loop reads native buffers directly). */
  static INDArray contiguous(INDArray a) {
    return a.isView() || a.ordering() != 'c' || a.offset() != 0 ? a.dup('c') : a;
  }
}
