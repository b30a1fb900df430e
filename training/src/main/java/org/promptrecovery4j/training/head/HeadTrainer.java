package org.promptrecovery4j.training.head;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.core.AtomicFiles;
import org.promptrecovery4j.core.NpyReader;
import org.promptrecovery4j.core.TestHooks;
import org.promptrecovery4j.evaluation.SharpenedCosine;
import org.promptrecovery4j.training.Shuffling;
import org.promptrecovery4j.training.TensorMap;
import org.promptrecovery4j.training.optim.AdamW;
import org.promptrecovery4j.training.optim.GradClipping;
import org.promptrecovery4j.weights.SafetensorsFile;
import org.promptrecovery4j.weights.SafetensorsWriter;

/**
 * Trains the seed's {@link RegressionHead} on cached features ({@code .npy} [N, in]) against target embeddings
 * ({@code .npy} [N, out]), with {@link AdamW} and {@code clip_grad_norm_}, as the seed's training loop does:
 * {@code model.train(); loss = loss_fn(model(x), y); loss.backward(); clip_grad_norm_(...); optimizer.step()}.
 *
 * <p>Order of rows: without shuffling and without validation, step i of an epoch trains rows [i·B, (i+1)·B) of the
 * file; with shuffling each epoch draws its permutation from {@code java.util.Random(seed + epoch)}. A last partial
 * batch trains if it has at least 2 rows (BatchNorm needs 2; a single leftover row is skipped). Validation
 * ({@code valFraction} > 0): the last ⌈F·N⌉ rows of the file without shuffling, else those of a permutation drawn
 * from {@code Random(seed)} ({@link RowSplit}, which also makes the folds of {@link HeadFolds}); scored each epoch in
 * eval mode as the mean of cos³ (SCS) of predictions and targets.
 *
 * <p>Output folder: {@value #HEAD} (the seed's tensor names; the best epoch by validation SCS, or the last epoch
 * without validation) with {@value #CONFIG}, and {@value #STATE}: the last head, the optimiser's moments
 * ({@code optimizer.<param>.exp_avg/exp_avg_sq}) and the trainer's position and history in its metadata, one file
 * written atomically at the end of every epoch (and at the last step). A run started again on the same folder with
 * the same settings resumes from it: a kill loses at most the epoch in flight. Every random choice (permutation,
 * dropout mask) is a function of the seed and the epoch or step, so a resumed run equals an uninterrupted one. A
 * finished run started again returns what its checkpoint's metadata says, without loading it.
 *
 * <p>Test hook (never set outside tests): with {@value #PAUSE_AFTER_EPOCHS_PROPERTY} = N a call pauses once N epochs
 * (over all the folds of a k-fold call) are checkpointed, creates the file named by {@value #PAUSE_MARKER_PROPERTY}
 * and sleeps, to be killed.
 */
public final class HeadTrainer {

  public static final String HEAD = "head.safetensors";
  public static final String CONFIG = "head_config.json";
  public static final String STATE = "train_state.safetensors";

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The run's settings. {@code epochs} or {@code steps} (> 0 wins) bound the run; {@code maxGradNorm} 0 turns
   * clipping off; {@code hidden} applies to a fresh head ({@code init} null) only.
   */
  public record Options(int epochs, int steps, int batchSize, AdamW.Settings adam, double maxGradNorm, HeadLoss loss,
                        double valFraction, double dropout, long seed, int hidden, boolean shuffle, Path init) {

    /** The seed's settings: 10 epochs, batch 4, betas 0.85/0.999, eps 1e-8, weight decay 0.005, cosine loss. */
    public static Options seedDefaults(double lr) {
      return new Options(10, 0, 4, AdamW.Settings.seed(lr), 1.0, HeadLoss.COSINE, 0.1, 0, 42,
          RegressionHead.Config.SEED_HIDDEN, true, null);
    }

    /** What must agree for a run to resume another: everything except how long it runs. */
    JsonNode identity() {
      ObjectNode o = JSON.createObjectNode();
      o.put("batch_size", batchSize).put("lr", adam.lr()).put("beta1", adam.beta1()).put("beta2", adam.beta2())
          .put("eps", adam.eps()).put("weight_decay", adam.weightDecay()).put("max_grad_norm", maxGradNorm)
          .put("loss", loss.name().toLowerCase(Locale.ROOT)).put("val_fraction", valFraction).put("dropout", dropout)
          .put("seed", seed).put("shuffle", shuffle).put("hidden", init == null ? hidden : -1)
          .put("init", init == null ? null : init.toString());
      return o;
    }
  }

  /** One finished epoch: mean training loss and validation SCS (NaN without validation). */
  public record Epoch(int epoch, double trainLoss, double valScs) {}

  /** What a run did: the epochs (all of them, resumed ones included), the best one, and the steps taken in total. */
  public record Result(List<Epoch> epochs, int bestEpoch, double bestValScs, long steps, boolean resumed) {}

  /** Test hook (never set outside tests): pause after this many epochs checkpointed by one call, to be killed. */
  public static final String PAUSE_AFTER_EPOCHS_PROPERTY = "pr4j.test.headTrainer.pauseAfterEpochs";

  /** Test hook: the file created when a run pauses. */
  public static final String PAUSE_MARKER_PROPERTY = "pr4j.test.headTrainer.pauseMarker";

  private final Path features;
  private final Path targets;
  private final Path output;
  private final Options o;
  private final JsonNode identity;
  private final RowSplit split;
  private final String prefix;
  private final int[] epochsThisCall;
  private final PrintStream log;

  /**
   * One run into {@code output} on the rows of {@code split}; {@code identity} is what a resumed run must agree on,
   * {@code prefix} starts its progress lines, {@code epochsThisCall} counts the epochs checkpointed by the caller's
   * whole call (the test hook), shared by the folds of a k-fold run.
   */
  HeadTrainer(Path features, Path targets, Path output, Options options, JsonNode identity, RowSplit split,
              String prefix, int[] epochsThisCall, PrintStream log) {
    this.features = features;
    this.targets = targets;
    this.output = output;
    this.o = options;
    this.identity = identity;
    this.split = split;
    this.prefix = prefix;
    this.epochsThisCall = epochsThisCall;
    this.log = log;
  }

  /** Trains (or resumes) a head into {@code output}; progress lines go to {@code log}. */
  public static Result train(Path features, Path targets, Path output, Options options, PrintStream log)
      throws IOException {
    checkOptions(options);
    float[][] x = NpyReader.readFloat32(features);
    float[][] y = NpyReader.readFloat32(targets);
    checkData(features, targets, x, y);
    if (Files.exists(output.resolve(HeadFolds.FOLDS_JSON))) {
      throw new IllegalArgumentException(output + " holds a k-fold run (" + HeadFolds.FOLDS_JSON + "); give --folds to"
          + " resume it, or use another --output");
    }
    RowSplit split = RowSplit.holdOut(x.length, options.valFraction(), options.shuffle(), options.seed());
    HeadTrainer t = new HeadTrainer(features, targets, output, options, options.identity(), split, "", new int[1], log);
    t.checkBatchSize();
    return t.run(x, y);
  }

  /** Refuses a batch larger than the training rows of the split. */
  void checkBatchSize() {
    if (split.train().length < o.batchSize()) {
      throw new IllegalArgumentException("--batch-size " + o.batchSize() + " is larger than the " + split.train().length
          + " training rows of " + features + (split.validation().length > 0
              ? " (after " + split.validation().length + " validation rows)" : ""));
    }
  }

  private int stepsPerEpoch() {
    int n = split.train().length;
    return n / o.batchSize() + (n % o.batchSize() >= 2 ? 1 : 0);
  }

  private long totalSteps() {
    return o.steps() > 0 ? o.steps() : (long) o.epochs() * stepsPerEpoch();
  }

  /**
   * The result of this run when its checkpoint says it has taken all its steps (read from the checkpoint's metadata
   * only, no tensors), null when it has not started or not finished; a checkpoint of other settings is refused.
   */
  Result finished() throws IOException {
    JsonNode meta = Files.exists(output.resolve(STATE)) ? readMeta() : null;
    return meta != null && meta.path("step").asLong() >= totalSteps() ? resultOf(meta) : null;
  }

  /** Trains (or resumes) on the rows of the split; x and y are the checked files. */
  Result run(float[][] x, float[][] y) throws IOException {
    int[] train = split.train();
    int[] val = split.validation();
    int stepsPerEpoch = stepsPerEpoch();
    long totalSteps = totalSteps();
    JsonNode meta = Files.exists(output.resolve(STATE)) ? readMeta() : null;
    if (meta != null && meta.path("step").asLong() >= totalSteps) {
      log.printf(Locale.ROOT, "%strain-head: %s already holds the finished run (%d steps)%n", prefix, output,
          meta.path("step").asLong());
      return resultOf(meta);
    }
    State s = meta != null ? resume(x[0].length, y[0].length, meta) : fresh(x[0].length, y[0].length);
    log.printf(Locale.ROOT, "%strain-head: %d training rows, %d validation rows, batch %d, %d steps per epoch, %d steps%s%n",
        prefix, train.length, val.length, o.batchSize(), stepsPerEpoch, totalSteps,
        s.step > 0 ? " (resuming after step " + s.step + ", epoch " + s.epochsDone + ")" : "");
    long started = System.nanoTime();
    long lastPrint = started;
    long stepsThisRun = 0;
    while (s.step < totalSteps) {
      int[] order = epochOrder(train, s.epochsDone);
      int batchesDone = s.epochStep;
      for (int b = batchesDone; b < stepsPerEpoch && s.step < totalSteps; b++) {
        int from = b * o.batchSize();
        int[] rows = Arrays.copyOfRange(order, from, Math.min(order.length, from + o.batchSize()));
        float loss = step(s, x, y, rows);
        s.lossSum += loss;
        s.epochStep++;
        s.step++;
        stepsThisRun++;
        long now = System.nanoTime();
        if (now - lastPrint > 5_000_000_000L) {
          lastPrint = now;
          log.printf(Locale.ROOT, "%sepoch %d step %d/%d loss %.5f (epoch mean %.5f) %.2f steps/s%n", prefix,
              s.epochsDone + 1, s.step, totalSteps, loss, s.lossSum / s.epochStep,
              stepsThisRun / ((now - started) / 1e9));
        }
      }
      if (s.epochStep == stepsPerEpoch || s.step >= totalSteps) {
        endEpoch(s, x, y, val);
      }
    }
    return new Result(List.copyOf(s.history), s.bestEpoch, s.bestScs, s.step, s.resumed);
  }

  /** One optimiser step on {@code rows}: forward/backward, clipping, AdamW. */
  private float step(State s, float[][] x, float[][] y, int[] rows) {
    INDArray xb = Nd4j.createFromArray(pick(x, rows));
    INDArray yb = Nd4j.createFromArray(pick(y, rows));
    INDArray mask = o.dropout() > 0 ? dropoutMask(rows.length, x[0].length, s.step) : null;
    RegressionHead.Step r = s.head.forwardBackward(xb, yb, o.loss(), mask);
    GradClipping.clipGradNorm(r.gradients().values(), o.maxGradNorm());
    s.optimizer.step(s.head.parameters(), r.gradients());
    if (!Float.isFinite(r.loss())) {
      throw new IllegalStateException("the loss became " + r.loss() + " at step " + (s.step + 1)
          + "; lower --lr or turn on --max-grad-norm");
    }
    return r.loss();
  }

  /** Validation, the best head, the checkpoint; then the next epoch starts. */
  private void endEpoch(State s, float[][] x, float[][] y, int[] val) throws IOException {
    int epoch = s.epochsDone + 1;
    double trainLoss = s.epochStep == 0 ? Double.NaN : s.lossSum / s.epochStep;
    double scs = val.length == 0 ? Double.NaN : validationScs(s.head, x, y, val);
    s.history.add(new Epoch(epoch, trainLoss, scs));
    boolean best = val.length == 0 || s.bestEpoch == 0 || scs > s.bestScs;
    if (best) {
      s.bestEpoch = epoch;
      s.bestScs = scs;
      s.head.save(output.resolve(HEAD));
      writeConfig(s, epoch, scs);
    }
    s.epochsDone = epoch;
    s.epochStep = 0;
    s.lossSum = 0;
    saveState(s);
    log.printf(Locale.ROOT, "%sepoch %d: train loss %.5f%s%s%n", prefix, epoch, trainLoss,
        val.length == 0 ? "" : String.format(Locale.ROOT, ", validation SCS %.5f", scs), best && val.length > 0 ? " (best)" : "");
    if (++epochsThisCall[0] == Integer.getInteger(PAUSE_AFTER_EPOCHS_PROPERTY, -1)) {
      TestHooks.pauseUntilKilled(PAUSE_MARKER_PROPERTY, "train-head (" + PAUSE_AFTER_EPOCHS_PROPERTY + ")");
    }
  }

  /** Mean cos³ of eval-mode predictions against targets over {@code rows}. */
  static double validationScs(RegressionHead head, float[][] x, float[][] y, int[] rows) {
    double sum = 0;
    for (int from = 0; from < rows.length; from += 256) {
      int[] chunk = Arrays.copyOfRange(rows, from, Math.min(rows.length, from + 256));
      float[][] pred = head.predict(Nd4j.createFromArray(pick(x, chunk))).toFloatMatrix();
      for (int i = 0; i < chunk.length; i++) {
        double c = SharpenedCosine.cosine(pred[i], y[chunk[i]]);
        sum += c * c * c;
      }
    }
    return sum / rows.length;
  }

  /** The mutable position of a run. */
  private static final class State {
    RegressionHead head;
    AdamW optimizer;
    long step;
    int epochsDone;
    int epochStep;
    double lossSum;
    int bestEpoch;
    double bestScs = Double.NaN;
    List<Epoch> history = new ArrayList<>();
    boolean resumed;
  }

  private State fresh(int in, int out) throws IOException {
    State s = new State();
    if (o.init() != null) {
      s.head = RegressionHead.load(o.init(), o.dropout());
      RegressionHead.Config c = s.head.config();
      if (c.in() != in || c.out() != out) {
        throw new IllegalArgumentException(o.init() + ": the head maps " + c.in() + " → " + c.out() + ", but "
            + features + " has " + in + " columns and " + targets + " has " + out);
      }
    } else {
      s.head = RegressionHead.initialize(new RegressionHead.Config(in, o.hidden(), out, o.dropout(),
          RegressionHead.Config.INITIALIZER_RANGE), o.seed());
    }
    s.optimizer = new AdamW(o.adam());
    return s;
  }

  /** The trainer's metadata of the checkpoint, refused when its settings are not this run's. */
  private JsonNode readMeta() throws IOException {
    Path file = output.resolve(STATE);
    JsonNode meta;
    try (SafetensorsFile w = SafetensorsFile.open(file)) {
      String trainer = w.metadata().get("trainer");
      if (trainer == null) {
        throw new IllegalArgumentException(file + ": not a train-head state (no 'trainer' metadata)");
      }
      meta = JSON.readTree(trainer);
    }
    if (!meta.path("options").toString().equals(identity.toString())) {
      throw new IllegalArgumentException(output + " holds a run with other settings " + meta.path("options")
          + "; these are " + identity + ". Use another --output, or the same settings to resume it");
    }
    return meta;
  }

  /** What a checkpoint's metadata says the run did. */
  private static Result resultOf(JsonNode meta) {
    List<Epoch> history = new ArrayList<>();
    for (JsonNode e : meta.path("history")) {
      history.add(new Epoch(e.path("epoch").asInt(), number(e.path("train_loss")), number(e.path("val_scs"))));
    }
    return new Result(List.copyOf(history), meta.path("best_epoch").asInt(), number(meta.path("best_val_scs")),
        meta.path("step").asLong(), true);
  }

  private State resume(int in, int out, JsonNode meta) throws IOException {
    Path file = output.resolve(STATE);
    State s = new State();
    s.resumed = true;
    Map<String, Long> steps = new LinkedHashMap<>();
    Map<String, INDArray[]> moments = new LinkedHashMap<>();
    try (SafetensorsFile w = SafetensorsFile.open(file)) {
      for (String n : RegressionHead.PARAMETERS) {
        String prefix = "optimizer." + n + ".";
        if (w.contains(prefix + "exp_avg")) {
          steps.put(n, meta.path("optimizer_steps").path(n).asLong());
          moments.put(n, new INDArray[] {w.loadFloat(prefix + "exp_avg"), w.loadFloat(prefix + "exp_avg_sq")});
        }
      }
    }
    s.head = RegressionHead.load(file, o.dropout());
    if (s.head.config().in() != in || s.head.config().out() != out) {
      throw new IllegalArgumentException(file + ": the head maps " + s.head.config().in() + " → "
          + s.head.config().out() + ", but the features have " + in + " columns and the targets " + out);
    }
    s.optimizer = new AdamW(o.adam());
    s.optimizer.loadState(steps, moments);
    s.step = meta.path("step").asLong();
    s.epochsDone = meta.path("epochs_done").asInt();
    s.epochStep = meta.path("epoch_step").asInt();
    s.lossSum = meta.path("loss_sum").asDouble();
    s.bestEpoch = meta.path("best_epoch").asInt();
    s.bestScs = meta.path("best_val_scs").isNumber() ? meta.path("best_val_scs").asDouble() : Double.NaN;
    for (JsonNode e : meta.path("history")) {
      s.history.add(new Epoch(e.path("epoch").asInt(), number(e.path("train_loss")), number(e.path("val_scs"))));
    }
    return s;
  }

  private void saveState(State s) throws IOException {
    TensorMap t = s.head.stateDict();
    ObjectNode meta = JSON.createObjectNode();
    meta.set("options", identity);
    meta.put("step", s.step).put("epochs_done", s.epochsDone).put("epoch_step", s.epochStep).put("loss_sum", s.lossSum)
        .put("best_epoch", s.bestEpoch);
    putNumber(meta, "best_val_scs", s.bestScs);
    ObjectNode optSteps = meta.putObject("optimizer_steps");
    s.optimizer.state().forEach((n, st) -> {
      t.put("optimizer." + n + ".exp_avg", st.expAvg()).put("optimizer." + n + ".exp_avg_sq", st.expAvgSq());
      optSteps.put(n, st.step());
    });
    ArrayNode h = meta.putArray("history");
    for (Epoch e : s.history) {
      ObjectNode n = h.addObject().put("epoch", e.epoch());
      putNumber(n, "train_loss", e.trainLoss());
      putNumber(n, "val_scs", e.valScs());
    }
    SafetensorsWriter.write(output.resolve(STATE), t, t.names(), Map.of("format", "pt", "trainer", meta.toString()));
  }

  private void writeConfig(State s, int epoch, double scs) throws IOException {
    s.head.saveConfig(output.resolve(CONFIG), epoch, s.step, scs, identity);
  }

  private int[] epochOrder(int[] train, int epoch) {
    if (!o.shuffle()) {
      return train;
    }
    int[] p = train.clone();
    Shuffling.shuffle(p, new Random(o.seed() + epoch));
    return p;
  }

  private INDArray dropoutMask(int rows, int cols, long step) {
    Random r = new Random(o.seed() * 1_000_003L + step);
    float keep = (float) (1 / (1 - o.dropout()));
    float[][] m = new float[rows][cols];
    for (float[] row : m) {
      for (int j = 0; j < cols; j++) {
        row[j] = r.nextDouble() < o.dropout() ? 0f : keep;
      }
    }
    return Nd4j.createFromArray(m);
  }

  static void checkOptions(Options o) {
    if (o.epochs() < 1 && o.steps() < 1) {
      throw new IllegalArgumentException("--epochs or --steps must be at least 1");
    }
    if (o.batchSize() < 2) {
      throw new IllegalArgumentException("--batch-size must be at least 2 (BatchNorm1d needs 2 rows in training), got "
          + o.batchSize());
    }
    if (!(o.valFraction() >= 0 && o.valFraction() < 1)) {
      throw new IllegalArgumentException("--val-fraction must be in [0, 1), got " + o.valFraction());
    }
    if (!(o.maxGradNorm() >= 0)) {
      throw new IllegalArgumentException("--max-grad-norm must be >= 0 (0 = off), got " + o.maxGradNorm());
    }
    if (o.init() == null && o.hidden() < 1) {
      throw new IllegalArgumentException("--hidden must be at least 1, got " + o.hidden());
    }
  }

  static void checkData(Path features, Path targets, float[][] x, float[][] y) {
    if (x.length != y.length) {
      throw new IllegalArgumentException(features + " has " + x.length + " rows but " + targets + " has " + y.length
          + "; they must be the same rows in the same order");
    }
    if (x.length < 2 || x[0].length == 0 || y[0].length == 0) {
      throw new IllegalArgumentException(features + " and " + targets + " need at least 2 rows of at least 1 column");
    }
    checkFinite(features, x);
    checkFinite(targets, y);
  }

  static void checkFinite(Path file, float[][] m) {
    for (int r = 0; r < m.length; r++) {
      for (float v : m[r]) {
        if (!Float.isFinite(v)) {
          throw new IllegalArgumentException(file + ": row " + r + " holds " + v + " (NaN or infinite values cannot train)");
        }
      }
    }
  }

  static float[][] pick(float[][] m, int[] rows) {
    float[][] out = new float[rows.length][];
    for (int i = 0; i < rows.length; i++) {
      out[i] = m[rows[i]];
    }
    return out;
  }

  /** {@code v}, or null for NaN (JSON has no NaN). */
  static void putNumber(ObjectNode n, String key, double v) {
    if (Double.isNaN(v)) {
      n.putNull(key);
    } else {
      n.put(key, v);
    }
  }

  /** A number, or NaN for null. */
  static double number(JsonNode n) {
    return n.isNumber() ? n.asDouble() : Double.NaN;
  }

  /**
   * Eval-mode predictions for every row of {@code features}, written to {@code output} as float32 .npy; returns the
   * number of rows. {@code headDir} is a head .safetensors, the folder of a run ({@value #HEAD}), or the folder of a
   * k-fold run ({@value HeadFolds#FOLDS_JSON}): then the mean of its fold heads' predictions ({@link HeadFolds}).
   */
  public static int predict(Path headDir, Path features, Path output) throws IOException {
    float[][] x = NpyReader.readFloat32(features);
    checkFinite(features, x);
    float[][] out = predict(headDir, x, features.toString());
    org.promptrecovery4j.core.Npy.writeFloat32(output, out);
    return out.length;
  }

  /**
   * Eval-mode predictions for the feature rows {@code x} (already in memory; {@code source} names them in errors):
   * {@code headDir} as in {@link #predict(Path, Path, Path)}, a k-fold folder giving the mean of its fold heads.
   */
  public static float[][] predict(Path headDir, float[][] x, String source) throws IOException {
    if (Files.isDirectory(headDir) && !Files.exists(headDir.resolve(HEAD))
        && Files.exists(headDir.resolve(HeadFolds.FOLDS_JSON))) {
      return HeadFolds.predictMean(headDir, x, source);
    }
    Path file = Files.isDirectory(headDir) ? headDir.resolve(HEAD) : headDir;
    if (!Files.isRegularFile(file)) {
      throw new java.io.FileNotFoundException(file + ": no trained head (expected " + HEAD + " from train-head"
          + (Files.isDirectory(headDir.resolve(HeadFolds.foldName(0)))
              ? ", or " + HeadFolds.FOLDS_JSON + " beside the fold folders: run train-head --folds K on it" : "")
          + ")");
    }
    return predictRows(RegressionHead.load(file, 0), file, x, source);
  }

  /** Eval-mode predictions of {@code head} (read from {@code headFile}) for the rows of {@code x}, 256 at a time. */
  static float[][] predictRows(RegressionHead head, Path headFile, float[][] x, String features) {
    if (x.length > 0 && x[0].length != head.config().in()) {
      throw new IllegalArgumentException(features + " has " + x[0].length + " columns, the head in " + headFile
          + " takes " + head.config().in());
    }
    float[][] out = new float[x.length][];
    for (int from = 0; from < x.length; from += 256) {
      int n = Math.min(256, x.length - from);
      float[][] pred = head.predict(Nd4j.createFromArray(Arrays.copyOfRange(x, from, from + n))).castTo(DataType.FLOAT)
          .toFloatMatrix();
      System.arraycopy(pred, 0, out, from, n);
    }
    return out;
  }
}
