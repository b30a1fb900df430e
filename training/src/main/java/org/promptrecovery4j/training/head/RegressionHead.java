package org.promptrecovery4j.training.head;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.nn.Graphs;
import org.promptrecovery4j.training.TensorMap;
import org.promptrecovery4j.weights.Checkpoints;
import org.promptrecovery4j.weights.TensorInfo;
import org.promptrecovery4j.weights.WeightSource;

/**
 * The seed's embedding-regression head, {@code CustomModel.head}:
 *
 * <pre>
 *   head = nn.Sequential(nn.Linear(in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, out))
 * </pre>
 *
 * with its PyTorch tensor names ({@code head.0.weight} [hidden, in], {@code head.0.bias}, {@code head.1.weight},
 * {@code head.1.bias}, {@code head.1.running_mean}, {@code head.1.running_var}, {@code head.1.num_batches_tracked}
 * (int64), {@code head.3.weight} [out, hidden], {@code head.3.bias}), so a state dict saved by either side loads in
 * the other.
 *
 * <p>BatchNorm1d as PyTorch computes it, built from primitives (SameDiff M2.1's {@code batchNorm} has a broken
 * backward): in training the batch mean and the biased batch variance normalise ({@code eps} 1e-5), then the
 * running mean/variance move with momentum 0.1 towards the batch mean and the UNBIASED batch variance and
 * {@code num_batches_tracked} counts the batch; in eval the running statistics normalise. Gradients come from
 * SameDiff's autodiff ({@link #forwardBackward}; for head.0.weight SameDiff gives dL/dh and the last product,
 * {@code dh^T · x}, is one GEMM into a reused buffer); the optimiser is applied by the caller
 * ({@link org.promptrecovery4j.training.optim.AdamW}), so SameDiff's updaters are never used.
 *
 * <p>Optional dropout ({@link Config#dropout()}, off by default) applies to the input features in training,
 * {@code head(dropout(features))}: the Sequential itself has no dropout, as the seed's tensor indices show.
 */
public final class RegressionHead {

  public static final String W0 = "head.0.weight";
  public static final String B0 = "head.0.bias";
  public static final String BN_WEIGHT = "head.1.weight";
  public static final String BN_BIAS = "head.1.bias";
  public static final String RUNNING_MEAN = "head.1.running_mean";
  public static final String RUNNING_VAR = "head.1.running_var";
  public static final String NUM_BATCHES_TRACKED = "head.1.num_batches_tracked";
  public static final String W3 = "head.3.weight";
  public static final String B3 = "head.3.bias";

  /** The trainable parameters in {@code model.parameters()} order. */
  public static final List<String> PARAMETERS = List.of(W0, B0, BN_WEIGHT, BN_BIAS, W3, B3);

  /** BatchNorm1d's defaults. */
  public static final double BN_EPS = 1e-5;
  public static final double BN_MOMENTUM = 0.1;

  /**
   * Sizes and options. The seed: {@code in} = 4 × DeBERTa hidden (4096 for -large), hidden 32256, out 768
   * (sentence-t5-base), weights N(0, initializer_range 0.02), no dropout.
   */
  public record Config(int in, int hidden, int out, double dropout, double initializerRange) {
    public static final int SEED_HIDDEN = 32256;
    public static final int SEED_OUT = 768;
    public static final double INITIALIZER_RANGE = 0.02;

    public Config {
      if (in < 1 || hidden < 1 || out < 1) {
        throw new IllegalArgumentException("head sizes must be positive: in " + in + ", hidden " + hidden + ", out " + out);
      }
      if (!(dropout >= 0 && dropout < 1)) {
        throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
      }
    }

    public static Config of(int in, int hidden, int out) {
      return new Config(in, hidden, out, 0, INITIALIZER_RANGE);
    }

    public Config withDropout(double p) {
      return new Config(in, hidden, out, p, initializerRange);
    }
  }

  /**
   * The loss of one training batch and the gradients of the trainable parameters (by name). The gradient of
   * head.0.weight lives in a buffer the head reuses: it is valid until the next {@link #forwardBackward}.
   */
  public record Step(float loss, Map<String, INDArray> gradients) {}

  private final Config config;
  private final Map<String, INDArray> parameters = new LinkedHashMap<>();
  private INDArray runningMean;
  private INDArray runningVar;
  private long numBatchesTracked;
  private SameDiff trainGraph;
  private HeadLoss trainLoss;
  private SameDiff evalGraph;
  private INDArray gradW0;

  private RegressionHead(Config config) {
    this.config = config;
  }

  /**
   * A freshly initialised head, as the seed's {@code _init_weights}: Linear weights N(0, initializer_range) drawn
   * from {@code java.util.Random(seed)} (head.0.weight then head.3.weight, row-major), biases 0, BatchNorm weight 1
   * and bias 0, running mean 0 and variance 1.
   */
  public static RegressionHead initialize(Config config, long seed) {
    RegressionHead h = new RegressionHead(config);
    Random rng = new Random(seed);
    h.parameters.put(W0, normal(rng, config.initializerRange(), config.hidden(), config.in()));
    h.parameters.put(B0, Nd4j.zeros(DataType.FLOAT, config.hidden()));
    h.parameters.put(BN_WEIGHT, Nd4j.ones(DataType.FLOAT, config.hidden()));
    h.parameters.put(BN_BIAS, Nd4j.zeros(DataType.FLOAT, config.hidden()));
    h.parameters.put(W3, normal(rng, config.initializerRange(), config.out(), config.hidden()));
    h.parameters.put(B3, Nd4j.zeros(DataType.FLOAT, config.out()));
    h.runningMean = Nd4j.zeros(DataType.FLOAT, config.hidden());
    h.runningVar = Nd4j.ones(DataType.FLOAT, config.hidden());
    return h;
  }

  /**
   * Loads a head saved by {@link #save} or by PyTorch ({@code save_file(model.state_dict())} with the seed's names);
   * sizes come from the tensors, {@code dropout} from the caller. A missing {@code num_batches_tracked} counts 0.
   */
  public static RegressionHead load(Path file, double dropout) throws IOException {
    try (WeightSource w = Checkpoints.open(file)) {
      for (String n : List.of(W0, B0, BN_WEIGHT, BN_BIAS, RUNNING_MEAN, RUNNING_VAR, W3, B3)) {
        if (!w.contains(n)) {
          throw new IllegalArgumentException(file + ": no tensor '" + n + "' (expected the seed's head.0/1/3 names)");
        }
      }
      long[] s0 = w.info(W0).shape();
      long[] s3 = w.info(W3).shape();
      if (s0.length != 2 || s3.length != 2 || s3[1] != s0[0]) {
        throw new IllegalArgumentException(file + ": " + W0 + " is " + java.util.Arrays.toString(s0) + " and " + W3
            + " is " + java.util.Arrays.toString(s3) + "; expected [hidden, in] and [out, hidden]");
      }
      Config c = new Config(Math.toIntExact(s0[1]), Math.toIntExact(s0[0]), Math.toIntExact(s3[0]), dropout,
          Config.INITIALIZER_RANGE);
      RegressionHead h = new RegressionHead(c);
      for (String n : PARAMETERS) {
        h.parameters.put(n, read(w, file, n, h.expectedShape(n)));
      }
      h.runningMean = read(w, file, RUNNING_MEAN, new long[] {c.hidden()});
      h.runningVar = read(w, file, RUNNING_VAR, new long[] {c.hidden()});
      h.numBatchesTracked = w.contains(NUM_BATCHES_TRACKED) ? w.load(NUM_BATCHES_TRACKED).getLong(0) : 0;
      return h;
    }
  }

  /** Writes the state dict (the seed's names, float32, num_batches_tracked int64) as safetensors, atomically. */
  public void save(Path file) throws IOException {
    stateDict().save(file);
  }

  /** The state dict in PyTorch's order (parameters and buffers of head.0, head.1, head.3). */
  public TensorMap stateDict() {
    return new TensorMap()
        .put(W0, parameters.get(W0)).put(B0, parameters.get(B0))
        .put(BN_WEIGHT, parameters.get(BN_WEIGHT)).put(BN_BIAS, parameters.get(BN_BIAS))
        .put(RUNNING_MEAN, runningMean).put(RUNNING_VAR, runningVar)
        .put(NUM_BATCHES_TRACKED, Nd4j.scalar(numBatchesTracked))
        .put(W3, parameters.get(W3)).put(B3, parameters.get(B3));
  }

  public Config config() {
    return config;
  }

  /**
   * Writes {@code head_config.json} (atomically) beside a saved head, as {@code train-head} writes it: the
   * architecture, sizes, BatchNorm constants, the epoch and step it was saved at, its validation SCS (null without
   * validation) and the run's settings under {@code training}.
   */
  public void saveConfig(Path file, int epoch, long step, double valScs, com.fasterxml.jackson.databind.JsonNode training)
      throws IOException {
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode n = json.createObjectNode();
    n.put("architecture", "head = nn.Sequential(nn.Linear(in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, out))");
    n.put("in_features", config.in()).put("hidden", config.hidden()).put("out_features", config.out())
        .put("dropout", config.dropout()).put("initializer_range", config.initializerRange())
        .put("batch_norm_eps", BN_EPS).put("batch_norm_momentum", BN_MOMENTUM).put("epoch", epoch).put("step", step);
    if (Double.isNaN(valScs)) {
      n.putNull("val_scs");
    } else {
      n.put("val_scs", valScs);
    }
    n.set("training", training);
    byte[] bytes = json.writerWithDefaultPrettyPrinter().writeValueAsBytes(n);
    org.promptrecovery4j.core.AtomicFiles.write(file, out -> out.write(bytes));
  }

  /** The trainable parameters by name (live arrays: an optimiser updates them in place). */
  public Map<String, INDArray> parameters() {
    return parameters;
  }

  public INDArray runningMean() {
    return runningMean;
  }

  public INDArray runningVar() {
    return runningVar;
  }

  public long numBatchesTracked() {
    return numBatchesTracked;
  }

  /**
   * A training-mode forward and backward pass on one batch ({@code model.train(); loss = loss_fn(model(x), y);
   * loss.backward()}), which also updates the BatchNorm running statistics and {@code num_batches_tracked} as the
   * forward does in PyTorch. {@code dropoutMask} ([B, in], values 0 or 1/(1-p)) is required when dropout is on, and
   * ignored otherwise. A batch needs at least 2 rows (PyTorch refuses batch statistics of one row).
   */
  public Step forwardBackward(INDArray x, INDArray y, HeadLoss loss, INDArray dropoutMask) {
    long b = x.size(0);
    if (b < 2) {
      throw new IllegalArgumentException("BatchNorm1d in training needs more than 1 row per batch, got " + b);
    }
    checkShape("features", x, config.in());
    checkShape("targets", y, config.out());
    SameDiff sd = trainGraph(loss);
    INDArray xIn = x.castTo(DataType.FLOAT);
    if (config.dropout() > 0) {
      if (dropoutMask == null) {
        throw new IllegalArgumentException("dropout " + config.dropout() + " is on: a dropout mask is required");
      }
      xIn = xIn.mul(dropoutMask);
    }
    Map<String, INDArray> feed = new LinkedHashMap<>();
    feed.put("x", xIn);
    feed.put("y", y.castTo(DataType.FLOAT));
    OutAndGrad r = sd.calculateGradientsAndOutputs(feed, List.of("loss", "batch_mean", "batch_var"),
        GRADIENTS_FROM_SAMEDIFF);
    updateRunningStats(r.getOutputs().get("batch_mean"), r.getOutputs().get("batch_var"), b);
    Map<String, INDArray> grads = new LinkedHashMap<>();
    for (String n : PARAMETERS) {
      grads.put(n, n.equals(W0) ? firstWeightGradient(r.getGradients().get("h"), xIn)
          : r.getGradients().get(n));
    }
    return new Step(r.getOutputs().get("loss").getFloat(0), grads);
  }

  /** What SameDiff differentiates: every parameter but head.0.weight, and the first Linear's output h. */
  private static final List<String> GRADIENTS_FROM_SAMEDIFF = List.of("h", B0, BN_WEIGHT, BN_BIAS, W3, B3);

  /**
   * {@code dL/d head.0.weight = (dL/dh)^T · x} (what the matmul's backward computes), into one buffer reused every
   * step: asked of SameDiff, this gradient is a freshly allocated [hidden, in] array per step (528 MB at the seed's
   * size, measured 0.3-1.6 s to allocate on a 2-core machine, more than the arithmetic).
   */
  private INDArray firstWeightGradient(INDArray dh, INDArray x) {
    if (gradW0 == null) {
      gradW0 = Nd4j.create(DataType.FLOAT, config.hidden(), config.in());
    }
    Nd4j.gemm(dh, x, gradW0, true, false, 1.0, 0.0);
    return gradW0;
  }

  /** Eval-mode predictions ({@code model.eval(); model(x)}): BatchNorm with the running statistics, no dropout. */
  public INDArray predict(INDArray x) {
    checkShape("features", x, config.in());
    SameDiff sd = evalGraph();
    Map<String, INDArray> feed = new LinkedHashMap<>(parameters);
    feed.put("x", x.castTo(DataType.FLOAT));
    feed.put(RUNNING_MEAN, runningMean);
    feed.put(RUNNING_VAR, runningVar);
    return Graphs.output(sd, feed, "pred").get("pred");
  }

  /** {@code running = (1 - momentum) * running + momentum * batch}, with the unbiased variance, as PyTorch does. */
  void updateRunningStats(INDArray mean, INDArray biasedVar, long n) {
    float m = (float) BN_MOMENTUM;
    float keep = (float) (1 - BN_MOMENTUM);
    runningMean.muli(keep).addi(mean.mul(m));
    runningVar.muli(keep).addi(biasedVar.mul((float) n / (n - 1)).muli(m));
    numBatchesTracked++;
  }

  /** The training graph for {@code loss}; the parameters become its variables' arrays (updated in place). */
  private SameDiff trainGraph(HeadLoss loss) {
    if (trainGraph != null && trainLoss == loss) {
      return trainGraph;
    }
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, config.in());
    SDVariable y = sd.placeHolder("y", DataType.FLOAT, -1, config.out());
    Map<String, SDVariable> p = new LinkedHashMap<>();
    for (String n : PARAMETERS) {
      p.put(n, sd.var(n, parameters.get(n)));
    }
    SDVariable pred = trainingForward(sd, x, p);
    sd.setLossVariables(loss.build(sd, pred, y).rename("loss"));
    org.promptrecovery4j.training.GradFunctions.ensure(sd);
    for (String n : PARAMETERS) {
      parameters.put(n, sd.getArrForVarName(n)); // the graph's own arrays, in case it copied them
    }
    trainGraph = sd;
    trainLoss = loss;
    return sd;
  }

  /**
   * The training-mode forward from features {@code x} with the parameter variables {@code p}; names the first
   * Linear's output {@code h} and the BatchNorm batch statistics {@code batch_mean} and {@code batch_var} (biased).
   */
  static SDVariable trainingForward(SameDiff sd, SDVariable x, Map<String, SDVariable> p) {
    SDVariable h = linear(sd, x, p.get(W0), p.get(B0)).rename("h");
    SDVariable mean = h.mean("batch_mean", false, 0);
    SDVariable d = h.sub(mean);
    SDVariable var = d.mul(d).mean("batch_var", false, 0);
    SDVariable norm = d.mul(sd.math.rsqrt(var.add(BN_EPS)));
    return head(sd, norm, p);
  }

  /** The eval graph: parameters and running statistics are placeholders, fed the current arrays each call. */
  private SameDiff evalGraph() {
    if (evalGraph != null) {
      return evalGraph;
    }
    SameDiff sd = Graphs.newGraph();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, config.in());
    Map<String, SDVariable> p = new LinkedHashMap<>();
    for (String n : PARAMETERS) {
      p.put(n, sd.placeHolder(n, DataType.FLOAT, expectedShape(n)));
    }
    SDVariable rm = sd.placeHolder(RUNNING_MEAN, DataType.FLOAT, config.hidden());
    SDVariable rv = sd.placeHolder(RUNNING_VAR, DataType.FLOAT, config.hidden());
    SDVariable h = linear(sd, x, p.get(W0), p.get(B0));
    SDVariable norm = h.sub(rm).mul(sd.math.rsqrt(rv.add(BN_EPS)));
    head(sd, norm, p).rename("pred");
    evalGraph = sd;
    return sd;
  }

  /** BatchNorm's affine part, ReLU and the last Linear, from the normalised hidden activations. */
  private static SDVariable head(SameDiff sd, SDVariable normalized, Map<String, SDVariable> p) {
    SDVariable bn = normalized.mul(p.get(BN_WEIGHT)).add(p.get(BN_BIAS));
    return linear(sd, sd.nn.relu(bn, 0), p.get(W3), p.get(B3));
  }

  /** {@code nn.Linear}: {@code x W^T + b} with W in PyTorch's [out, in] layout. */
  private static SDVariable linear(SameDiff sd, SDVariable x, SDVariable w, SDVariable b) {
    return sd.mmul(x, w, false, true, false).add(b);
  }

  private long[] expectedShape(String name) {
    switch (name) {
      case W0:
        return new long[] {config.hidden(), config.in()};
      case W3:
        return new long[] {config.out(), config.hidden()};
      case B3:
        return new long[] {config.out()};
      default:
        return new long[] {config.hidden()};
    }
  }

  private static INDArray read(WeightSource w, Path file, String name, long[] shape) {
    TensorInfo t = w.info(name);
    if (!java.util.Arrays.equals(t.shape(), shape)) {
      throw new IllegalArgumentException(file + ": tensor '" + name + "' is " + t.shapeString() + ", expected "
          + java.util.Arrays.toString(shape));
    }
    return w.loadFloat(name).dup('c');
  }

  private static INDArray normal(Random rng, double std, int rows, int cols) {
    float[] v = new float[Math.multiplyExact(rows, cols)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (rng.nextGaussian() * std);
    }
    return Nd4j.create(v, new long[] {rows, cols}, 'c');
  }

  private static void checkShape(String what, INDArray a, int cols) {
    if (a.rank() != 2 || a.size(1) != cols) {
      throw new IllegalArgumentException(what + " are " + java.util.Arrays.toString(a.shape()) + ", the head expects [N, "
          + cols + "]");
    }
  }

  /** The names of the tensors a checkpoint of this head holds, in state-dict order. */
  public static List<String> stateDictNames() {
    return new ArrayList<>(List.of(W0, B0, BN_WEIGHT, BN_BIAS, RUNNING_MEAN, RUNNING_VAR, NUM_BATCHES_TRACKED, W3, B3));
  }
}
