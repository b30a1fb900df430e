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
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.core.AtomicFiles;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.core.NpyReader;
import org.promptrecovery4j.core.TestHooks;
import org.promptrecovery4j.evaluation.SharpenedCosine;
import org.promptrecovery4j.models.deberta.DebertaV2Model;
import org.promptrecovery4j.training.MemoryGuard;
import org.promptrecovery4j.training.Shuffling;
import org.promptrecovery4j.training.TensorMap;
import org.promptrecovery4j.training.features.DebertaFeatures;
import org.promptrecovery4j.training.optim.AdamW;
import org.promptrecovery4j.training.optim.GradClipping;
import org.promptrecovery4j.weights.DType;
import org.promptrecovery4j.weights.ModelFolder;
import org.promptrecovery4j.weights.ModelFolderWriter;
import org.promptrecovery4j.weights.SafetensorsFile;
import org.promptrecovery4j.weights.SafetensorsWriter;
import org.promptrecovery4j.weights.config.DebertaV2Config;

/**
 * Fine-tunes the seed's whole regression model, DeBERTa's top layers included ({@link DebertaRegressor}), from a CSV
 * of rows ({@code id, original_text, rewritten_text}) and target embeddings ({@code .npy} [N, out], row i of the
 * file for row i of the CSV): each step is a training-mode forward and backward pass through DeBERTa, the seed's
 * features and the head, {@code clip_grad_norm_} over all trainable tensors together and an {@link AdamW} step
 * (the head at {@code lr}, DeBERTa at {@code debertaLr}, the same betas, eps and weight decay for every tensor).
 * DeBERTa runs without dropout (as in eval mode), the head in training mode (BatchNorm batch statistics).
 *
 * <p>Rows, shuffling, the validation split and the best epoch follow {@link HeadTrainer}: seeded per epoch from
 * {@code Random(seed + epoch)}; validation (the last ⌈F·N⌉ rows, of a {@code Random(seed)} permutation when
 * shuffling) is scored after each epoch as the mean cos³ (SCS) of eval-mode predictions, the features computed by
 * the model being trained through its inference path ({@link DebertaFeatures#using}) as {@code features} computes
 * them, the head with its running statistics.
 *
 * <p>Output folder: at each best epoch (every epoch without validation) {@value #HEAD} and {@value #CONFIG} as
 * {@code train-head} writes them (the seed's tensor names; {@code in_features} = 4 × DeBERTa's hidden size), and
 * {@value #DEBERTA}/, a complete HF DeBERTa folder ({@link #saveDeberta}), replaced whole. After every epoch (and
 * every {@code saveEvery} steps, and at the last step) {@value #STATE}: the head, the trainable DeBERTa tensors (as
 * the graph holds them: linear weights {@code [in, out]}), both optimisers' moments ({@code optimizer.<name>.*}) and
 * the position and history in its metadata, one atomic file. Started again on the same folder with the same
 * settings, a killed run resumes from it and ends exactly as an uninterrupted one (every random choice is seeded by
 * the epoch). A kill while the outputs of a best epoch are written leaves them from two epochs until the resumed
 * run, which redoes that epoch, writes them again.
 *
 * <p>Test hook (never set outside tests): with {@value #PAUSE_AFTER_STEPS_PROPERTY} = N the run stops after its N-th
 * step (and any checkpoint due then), creates the file named by {@value #PAUSE_MARKER_PROPERTY} and sleeps, to be
 * killed.
 */
public final class RegressorTrainer {

  public static final String HEAD = HeadTrainer.HEAD;
  public static final String CONFIG = HeadTrainer.CONFIG;
  public static final String STATE = HeadTrainer.STATE;
  /** The trained DeBERTa, a HF folder. */
  public static final String DEBERTA = "deberta";
  /** {@link Options#unfreeze()} for the whole encoder ({@link DebertaV2Model#wholeEncoder()}). */
  public static final int ALL = -1;

  /** Test hook: sleep after this many steps of this run. */
  public static final String PAUSE_AFTER_STEPS_PROPERTY = "pr4j.test.regressor.pauseAfterSteps";
  /** Test hook: the file created when the run pauses. */
  public static final String PAUSE_MARKER_PROPERTY = "pr4j.test.regressor.pauseMarker";

  private static final String META = "regressor_trainer";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ORIGINAL = "original_text";
  private static final String REWRITTEN = "rewritten_text";
  /** Rows per validation pass (each of the two texts a pass of its own, as {@code features} runs them). */
  private static final int VAL_BATCH = 8;

  /**
   * The run's settings. {@code unfreeze}: the top N encoder layers train ({@link DebertaV2Model#topLayers}; 0 = the
   * head alone, through DeBERTa), or {@link #ALL}; {@code maxLength}: tokens per text, [CLS] and [SEP] included;
   * {@code epochs} or {@code steps} (> 0 wins) bound the run; {@code adam} is the head's optimiser, {@code debertaLr}
   * DeBERTa's learning rate (its other settings from {@code adam}); {@code maxGradNorm} 0 turns clipping off;
   * {@code hidden} applies to a fresh head ({@code init} null) only; {@code saveEvery} > 0 also checkpoints every
   * that many steps (the checkpoint of a large model takes a while: it holds the head's moments).
   */
  public record Options(int unfreeze, int maxLength, int epochs, int steps, int batchSize, AdamW.Settings adam,
                        double debertaLr, double maxGradNorm, HeadLoss loss, double valFraction, long seed, int hidden,
                        boolean shuffle, Path init, int saveEvery) {

    /** The seed's head settings (10 epochs, batch 4, lr 1e-3, betas 0.85/0.999, wd 0.005), DeBERTa at 2e-5. */
    public static Options seedDefaults(int unfreeze) {
      return new Options(unfreeze, DebertaFeatures.DEFAULT_MAX_LENGTH, 10, 0, 4, AdamW.Settings.seed(1e-3), 2e-5, 1.0,
          HeadLoss.COSINE, 0.1, 42, RegressionHead.Config.SEED_HIDDEN, true, null, 0);
    }

    /** What must agree for a run to resume another: everything except how long it runs and how often it saves. */
    JsonNode identity(Path model) {
      ObjectNode o = JSON.createObjectNode();
      o.put("model", model.toAbsolutePath().normalize().toString());
      if (unfreeze == ALL) {
        o.put("unfreeze", "all");
      } else {
        o.put("unfreeze", unfreeze);
      }
      o.put("max_length", maxLength).put("batch_size", batchSize).put("lr", adam.lr()).put("deberta_lr", debertaLr)
          .put("beta1", adam.beta1()).put("beta2", adam.beta2()).put("eps", adam.eps())
          .put("weight_decay", adam.weightDecay()).put("max_grad_norm", maxGradNorm)
          .put("loss", loss.name().toLowerCase(Locale.ROOT)).put("val_fraction", valFraction).put("seed", seed)
          .put("shuffle", shuffle).put("hidden", init == null ? hidden : -1)
          .put("init", init == null ? null : init.toString());
      return o;
    }
  }

  /** One finished epoch: mean training loss and validation SCS (NaN without validation). */
  public record Epoch(int epoch, double trainLoss, double valScs) {}

  /** What a run did: the epochs (resumed ones included), the best one, and the steps taken in total. */
  public record Result(List<Epoch> epochs, int bestEpoch, double bestValScs, long steps, boolean resumed) {}

  private final Path modelDir;
  private final Path data;
  private final Path targets;
  private final Path output;
  private final Options o;
  private final PrintStream log;

  private List<int[]> originals;
  private List<int[]> rewritten;
  private float[][] y;
  private DebertaFeatures tokens;
  private DebertaV2Model deberta;
  private RegressionHead head;
  private DebertaRegressor model;
  private final Map<String, INDArray> headParams = new LinkedHashMap<>();
  private final Map<String, INDArray> debertaParams = new LinkedHashMap<>();
  private AdamW headOpt;
  private AdamW debertaOpt;

  /** The mutable position of a run. */
  private long step;
  private int epochsDone;
  private int epochStep;
  private double lossSum;
  private int bestEpoch;
  private double bestScs = Double.NaN;
  private final List<Epoch> history = new ArrayList<>();
  private boolean resumed;

  private RegressorTrainer(Path modelDir, Path data, Path targets, Path output, Options options, PrintStream log) {
    this.modelDir = modelDir;
    this.data = data;
    this.targets = targets;
    this.output = output;
    this.o = options;
    this.log = log;
  }

  /**
   * Trains (or resumes) the regressor on the DeBERTa folder {@code model} into {@code output}; progress lines go to
   * {@code log}.
   */
  public static Result train(Path model, Path data, Path targets, Path output, Options options, PrintStream log)
      throws IOException {
    return new RegressorTrainer(model, data, targets, output, options, log).run();
  }

  private Result run() throws IOException {
    checkOptions();
    tokens = DebertaFeatures.open(modelDir, o.maxLength());
    DebertaV2Config config;
    try (ModelFolder f = ModelFolder.open(modelDir)) {
      config = (DebertaV2Config) f.config();
    }
    if (o.unfreeze() > config.numHiddenLayers()) {
      throw new IllegalArgumentException("--unfreeze " + o.unfreeze() + ": " + modelDir + " has "
          + config.numHiddenLayers() + " layers");
    }
    readData();
    int[][] split = split(y.length);
    int[] train = split[0];
    int[] val = split[1];
    if (train.length < o.batchSize()) {
      throw new IllegalArgumentException("--batch-size " + o.batchSize() + " is larger than the " + train.length
          + " training rows of " + data + (val.length > 0 ? " (after " + val.length + " validation rows)" : ""));
    }
    Path stateFile = output.resolve(STATE);
    JsonNode saved = Files.exists(stateFile) ? readState(stateFile) : null;
    discardStaleFolders();
    Predicate<String> trainable = o.unfreeze() == ALL ? DebertaV2Model.wholeEncoder()
        : DebertaV2Model.topLayers(config, o.unfreeze());
    deberta = DebertaV2Model.load(modelDir, trainable);
    DebertaFeatures features = tokens.using(deberta);
    features.checkIds(originals, data + ", column " + ORIGINAL);
    features.checkIds(rewritten, data + ", column " + REWRITTEN);
    head = saved != null ? RegressionHead.load(stateFile, 0) : freshHead(tokens.width());
    checkHead(saved != null ? stateFile : o.init(), tokens.width());
    model = DebertaRegressor.create(deberta, head, o.loss());
    model.parameters().forEach((n, a) -> (RegressionHead.PARAMETERS.contains(n) ? headParams : debertaParams).put(n, a));
    headOpt = new AdamW(o.adam());
    debertaOpt = new AdamW(new AdamW.Settings(o.debertaLr(), o.adam().beta1(), o.adam().beta2(), o.adam().eps(),
        o.adam().weightDecay()));
    if (saved != null) {
      restore(stateFile, saved);
    }
    int stepsPerEpoch = train.length / o.batchSize() + (train.length % o.batchSize() >= 2 ? 1 : 0);
    long totalSteps = o.steps() > 0 ? o.steps() : (long) o.epochs() * stepsPerEpoch;
    log.printf(Locale.ROOT, "train-regressor: %d training rows, %d validation rows, batch %d, %d steps per epoch, %d steps;"
        + " DeBERTa: %d layers, %s trainable (%d tensors, %d values)%s%n", train.length, val.length, o.batchSize(),
        stepsPerEpoch, totalSteps, config.numHiddenLayers(), o.unfreeze() == ALL ? "the whole encoder"
            : "the top " + o.unfreeze() + " layers", debertaParams.size(),
        debertaParams.values().stream().mapToLong(INDArray::length).sum(),
        step > 0 ? " (resuming after step " + step + ", epoch " + epochsDone + ")" : "");
    int pauseAfter = Integer.getInteger(PAUSE_AFTER_STEPS_PROPERTY, -1);
    long started = System.nanoTime();
    long lastPrint = 0;
    long stepsThisRun = 0;
    while (step < totalSteps) {
      int[] order = epochOrder(train, epochsDone);
      for (int b = epochStep; b < stepsPerEpoch && step < totalSteps; b++) {
        int from = b * o.batchSize();
        int[] rows = Arrays.copyOfRange(order, from, Math.min(order.length, from + o.batchSize()));
        float loss = step(rows);
        lossSum += loss;
        epochStep++;
        step++;
        stepsThisRun++;
        long now = System.nanoTime();
        if (stepsThisRun == 1 || now - lastPrint > 5_000_000_000L) {
          lastPrint = now;
          double seconds = (now - started) / 1e9;
          log.printf(Locale.ROOT, "epoch %d step %d/%d: loss %.5f (epoch mean %.5f), %.2f rows/s, %.1f s/step, ETA %s%n",
              epochsDone + 1, step, totalSteps, loss, lossSum / epochStep, stepsThisRun * (double) o.batchSize() / seconds,
              seconds / stepsThisRun, eta(seconds / stepsThisRun * (totalSteps - step)));
        }
        boolean epochEnds = epochStep == stepsPerEpoch || step >= totalSteps;
        if (!epochEnds && o.saveEvery() > 0 && step % o.saveEvery() == 0) {
          saveState();
        }
        if (stepsThisRun == pauseAfter) {
          TestHooks.pauseUntilKilled(PAUSE_MARKER_PROPERTY, "train-regressor (" + PAUSE_AFTER_STEPS_PROPERTY + ")");
        }
      }
      if (epochStep == stepsPerEpoch || step >= totalSteps) {
        endEpoch(val);
      }
    }
    return new Result(List.copyOf(history), bestEpoch, bestScs, step, resumed);
  }

  /** One optimiser step on {@code rows}: forward/backward through DeBERTa, clipping, AdamW. */
  private float step(int[] rows) {
    DebertaRegressor.Step s = model.forwardBackward(pick(originals, rows), pick(rewritten, rows),
        Nd4j.createFromArray(pickRows(y, rows)));
    GradClipping.clipGradNorm(s.gradients().values(), o.maxGradNorm());
    headOpt.step(headParams, s.gradients());
    debertaOpt.step(debertaParams, s.gradients());
    Set<INDArray> closed = Collections.newSetFromMap(new IdentityHashMap<>());
    for (INDArray g : s.gradients().values()) {
      if (closed.add(g) && g.closeable()) {
        g.close();
      }
    }
    MemoryGuard.releaseSessions(deberta.graph());
    if (!Float.isFinite(s.loss())) {
      throw new IllegalStateException("the loss became " + s.loss() + " at step " + (step + 1)
          + "; lower --lr / --deberta-lr or turn on --max-grad-norm");
    }
    return s.loss();
  }

  /** Validation, the best model's files, the checkpoint; then the next epoch starts. */
  private void endEpoch(int[] val) throws IOException {
    int epoch = epochsDone + 1;
    double trainLoss = epochStep == 0 ? Double.NaN : lossSum / epochStep;
    double scs = val.length == 0 ? Double.NaN : validationScs(val);
    history.add(new Epoch(epoch, trainLoss, scs));
    boolean best = val.length == 0 || bestEpoch == 0 || scs > bestScs;
    if (best) {
      bestEpoch = epoch;
      bestScs = scs;
      head.save(output.resolve(HEAD));
      head.saveConfig(output.resolve(CONFIG), epoch, step, scs, o.identity(modelDir));
      saveDeberta(deberta, modelDir, output.resolve(DEBERTA));
    }
    epochsDone = epoch;
    epochStep = 0;
    lossSum = 0;
    saveState();
    log.printf(Locale.ROOT, "epoch %d: train loss %.5f%s%s%n", epoch, trainLoss,
        val.length == 0 ? "" : String.format(Locale.ROOT, ", validation SCS %.5f", scs),
        best && val.length > 0 ? " (best)" : "");
  }

  /** Mean cos³ of eval-mode predictions (features from the model as it is now) against the targets of {@code rows}. */
  private double validationScs(int[] rows) throws IOException {
    DebertaFeatures features = tokens.using(deberta);
    double sum = 0;
    for (int from = 0; from < rows.length; from += VAL_BATCH) {
      int[] chunk = Arrays.copyOfRange(rows, from, Math.min(rows.length, from + VAL_BATCH));
      float[][] x = features.rows(pick(originals, chunk), pick(rewritten, chunk));
      float[][] pred = head.predict(Nd4j.createFromArray(x)).toFloatMatrix();
      for (int i = 0; i < chunk.length; i++) {
        double c = SharpenedCosine.cosine(pred[i], y[chunk[i]]);
        sum += c * c * c;
      }
    }
    MemoryGuard.releaseSessions(deberta.graph());
    return sum / rows.length;
  }

  /**
   * Writes {@code trained} as a HF folder {@code folder}, replacing it whole if it exists: the base folder's
   * config.json and tokenizer files copied byte for byte, and {@code model.safetensors} with every tensor of the base
   * checkpoint under its name and in its order; the trainable tensors in their trained values as float32 in HF's
   * layout ({@code [out, in]} for linear weights), every other tensor byte for byte as the base stores it.
   *
   * <p>Why float32 for the trained tensors whatever the base's dtype: fine-tuning moves weights by far less than
   * bf16's or f16's resolution per step, so rounding them back would undo much of the training; the folder then
   * mixes dtypes when the base is bf16/f16 (HF loads it, casting to the model's dtype).
   */
  public static void saveDeberta(DebertaV2Model trained, Path baseDir, Path folder) throws IOException {
    Path staging = AtomicFiles.stagingFolder(folder);
    try (ModelFolder base = ModelFolder.open(baseDir)) {
      TensorMap weights = new TensorMap();
      trained.trainableWeights().forEach(weights::put);
      Map<String, ModelFolderWriter.Tensor> replaced = new LinkedHashMap<>();
      for (String n : weights.names()) {
        replaced.put(n, new ModelFolderWriter.Tensor(DType.F32, weights.info(n).shape(), weights.bytes(n)));
      }
      ModelFolderWriter.write(baseDir, base.weights(), replaced, staging);
      AtomicFiles.replaceFolder(staging, folder);
    } finally {
      AtomicFiles.discardFolder(staging);
    }
  }

  // ---------------------------------------------------------------- data

  /** The CSV's two text columns, tokenized, and the targets, checked against each other. */
  private void readData() throws IOException {
    if (!Files.isRegularFile(data)) {
      throw new java.io.FileNotFoundException(data + ": no such file");
    }
    Csv.Table t = Csv.read(data);
    int oc = t.column(ORIGINAL, data);
    int rc = t.column(REWRITTEN, data);
    y = NpyReader.readFloat32(targets);
    if (y.length != t.rows().size()) {
      throw new IllegalArgumentException(targets + " has " + y.length + " rows but " + data + " has "
          + t.rows().size() + "; row i of the targets must be the target of CSV row i");
    }
    if (y.length < 2 || y[0].length == 0) {
      throw new IllegalArgumentException(data + " and " + targets + " need at least 2 rows (targets of at least 1 column)");
    }
    HeadTrainer.checkFinite(targets, y);
    originals = new ArrayList<>(y.length);
    rewritten = new ArrayList<>(y.length);
    for (List<String> row : t.rows()) {
      originals.add(tokens.encode(row.get(oc)));
      rewritten.add(tokens.encode(row.get(rc)));
    }
  }

  /** Train and validation row indices: {@link RowSplit#holdOut}, the split {@code train-head} makes. */
  private int[][] split(int n) {
    RowSplit s = RowSplit.holdOut(n, o.valFraction(), o.shuffle(), o.seed());
    return new int[][] {s.train(), s.validation()};
  }

  private int[] epochOrder(int[] train, int epoch) {
    if (!o.shuffle()) {
      return train;
    }
    int[] p = train.clone();
    Shuffling.shuffle(p, new Random(o.seed() + epoch));
    return p;
  }

  private static float[][] pickRows(float[][] m, int[] rows) {
    float[][] out = new float[rows.length][];
    for (int i = 0; i < rows.length; i++) {
      out[i] = m[rows[i]];
    }
    return out;
  }

  private static List<int[]> pick(List<int[]> ids, int[] rows) {
    List<int[]> out = new ArrayList<>(rows.length);
    for (int r : rows) {
      out.add(ids.get(r));
    }
    return out;
  }

  // ---------------------------------------------------------------- head, state

  private RegressionHead freshHead(int in) throws IOException {
    if (o.init() != null) {
      return RegressionHead.load(o.init(), 0);
    }
    return RegressionHead.initialize(new RegressionHead.Config(in, o.hidden(), y[0].length, 0,
        RegressionHead.Config.INITIALIZER_RANGE), o.seed());
  }

  private void checkHead(Path from, int in) {
    RegressionHead.Config c = head.config();
    if (c.in() != in || c.out() != y[0].length) {
      throw new IllegalArgumentException(from + ": the head maps " + c.in() + " → " + c.out() + ", but " + modelDir
          + " gives " + in + " features (4 × hidden) and " + targets + " has " + y[0].length + " columns");
    }
  }

  /** The checkpoint's metadata, refused when it is not this trainer's or holds other settings. */
  private JsonNode readState(Path file) throws IOException {
    try (SafetensorsFile w = SafetensorsFile.open(file)) {
      String meta = w.metadata().get(META);
      if (meta == null) {
        throw new IllegalArgumentException(file + ": not a train-regressor state (no '" + META + "' metadata)");
      }
      JsonNode m = JSON.readTree(meta);
      if (!m.path("options").toString().equals(o.identity(modelDir).toString())) {
        throw new IllegalArgumentException(output + " holds a run with other settings " + m.path("options")
            + "; these are " + o.identity(modelDir) + ". Use another --output, or the same settings to resume it");
      }
      return m;
    }
  }

  /** DeBERTa's trained tensors, both optimisers and the position, from the checkpoint (the head is loaded already). */
  private void restore(Path file, JsonNode meta) throws IOException {
    resumed = true;
    try (SafetensorsFile w = SafetensorsFile.open(file)) {
      for (Map.Entry<String, INDArray> e : debertaParams.entrySet()) {
        String n = e.getKey();
        if (!w.contains(n)) {
          throw new IllegalArgumentException(file + ": no tensor '" + n + "' (saved with another --unfreeze?)");
        }
        INDArray v = w.loadFloat(n);
        if (!Arrays.equals(v.shape(), e.getValue().shape())) {
          throw new IllegalArgumentException(file + ": tensor '" + n + "' is " + Arrays.toString(v.shape())
              + ", the model's " + Arrays.toString(e.getValue().shape()));
        }
        e.getValue().assign(v);
      }
      restoreOptimiser(w, meta, headOpt, headParams.keySet());
      restoreOptimiser(w, meta, debertaOpt, debertaParams.keySet());
    }
    step = meta.path("step").asLong();
    epochsDone = meta.path("epochs_done").asInt();
    epochStep = meta.path("epoch_step").asInt();
    lossSum = meta.path("loss_sum").asDouble();
    bestEpoch = meta.path("best_epoch").asInt();
    bestScs = HeadTrainer.number(meta.path("best_val_scs"));
    for (JsonNode e : meta.path("history")) {
      history.add(new Epoch(e.path("epoch").asInt(), HeadTrainer.number(e.path("train_loss")), HeadTrainer.number(e.path("val_scs"))));
    }
  }

  private static void restoreOptimiser(SafetensorsFile w, JsonNode meta, AdamW opt, Iterable<String> names) {
    Map<String, Long> steps = new LinkedHashMap<>();
    Map<String, INDArray[]> moments = new LinkedHashMap<>();
    for (String n : names) {
      String prefix = "optimizer." + n + ".";
      if (w.contains(prefix + "exp_avg")) {
        steps.put(n, meta.path("optimizer_steps").path(n).asLong());
        moments.put(n, new INDArray[] {w.loadFloat(prefix + "exp_avg"), w.loadFloat(prefix + "exp_avg_sq")});
      }
    }
    opt.loadState(steps, moments);
  }

  private void saveState() throws IOException {
    TensorMap t = head.stateDict();
    debertaParams.forEach(t::put);
    ObjectNode meta = JSON.createObjectNode();
    meta.set("options", o.identity(modelDir));
    meta.put("deberta_layout", "graph: linear weights [in, out]");
    meta.put("step", step).put("epochs_done", epochsDone).put("epoch_step", epochStep).put("loss_sum", lossSum)
        .put("best_epoch", bestEpoch);
    HeadTrainer.putNumber(meta, "best_val_scs", bestScs);
    ObjectNode optSteps = meta.putObject("optimizer_steps");
    for (AdamW opt : List.of(headOpt, debertaOpt)) {
      opt.state().forEach((n, st) -> {
        t.put("optimizer." + n + ".exp_avg", st.expAvg()).put("optimizer." + n + ".exp_avg_sq", st.expAvgSq());
        optSteps.put(n, st.step());
      });
    }
    ArrayNode h = meta.putArray("history");
    for (Epoch e : history) {
      ObjectNode n = h.addObject().put("epoch", e.epoch());
      HeadTrainer.putNumber(n, "train_loss", e.trainLoss());
      HeadTrainer.putNumber(n, "val_scs", e.valScs());
    }
    SafetensorsWriter.write(output.resolve(STATE), t, t.names(), Map.of("format", "pt", META, meta.toString()));
  }

  /** Staging and set-aside copies of {@value #DEBERTA}/ that a killed run left in the output folder. */
  private void discardStaleFolders() throws IOException {
    if (!Files.isDirectory(output)) {
      return;
    }
    List<Path> stale;
    try (Stream<Path> s = Files.list(output)) {
      stale = s.filter(p -> p.getFileName().toString().startsWith("." + DEBERTA + ".") && Files.isDirectory(p)).toList();
    }
    for (Path p : stale) {
      AtomicFiles.discardFolder(p);
    }
  }

  private void checkOptions() {
    if (o.epochs() < 1 && o.steps() < 1) {
      throw new IllegalArgumentException("--epochs or --steps must be at least 1");
    }
    if (o.batchSize() < 2) {
      throw new IllegalArgumentException("--batch-size must be at least 2 (BatchNorm1d needs 2 rows in training), got "
          + o.batchSize());
    }
    if (o.unfreeze() < 0 && o.unfreeze() != ALL) {
      throw new IllegalArgumentException("--unfreeze must be a number of layers >= 0 or 'all', got " + o.unfreeze());
    }
    if (o.maxLength() < 2) {
      throw new IllegalArgumentException("--max-length must be at least 2 (room for [CLS] and [SEP]), got " + o.maxLength());
    }
    if (!(o.valFraction() >= 0 && o.valFraction() < 1)) {
      throw new IllegalArgumentException("--val-fraction must be in [0, 1), got " + o.valFraction());
    }
    if (!(o.maxGradNorm() >= 0)) {
      throw new IllegalArgumentException("--max-grad-norm must be >= 0 (0 = off), got " + o.maxGradNorm());
    }
    if (!(o.debertaLr() >= 0)) {
      throw new IllegalArgumentException("--deberta-lr must be >= 0, got " + o.debertaLr());
    }
    if (o.init() == null && o.hidden() < 1) {
      throw new IllegalArgumentException("--hidden must be at least 1, got " + o.hidden());
    }
    if (o.saveEvery() < 0) {
      throw new IllegalArgumentException("--save-every must be >= 0 (0 = at the end of each epoch only), got " + o.saveEvery());
    }
  }

  private static String eta(double seconds) {
    long s = Math.round(seconds);
    return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60)
        : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
  }

}
