package org.promptrecovery4j.training.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.core.Progress;
import org.promptrecovery4j.models.generation.CausalLM;
import org.promptrecovery4j.models.generation.DecoderOptions;
import org.promptrecovery4j.models.lora.LoraAdapter;
import org.promptrecovery4j.models.lora.LoraConfig;
import org.promptrecovery4j.training.TensorMap;
import org.promptrecovery4j.training.optim.AdamW;
import org.promptrecovery4j.weights.SafetensorsFile;
import org.promptrecovery4j.weights.SafetensorsWriter;

/**
 * {@code train-lora}: a LoRA adapter trained on a causal LM for some epochs. Each epoch shuffles the training
 * examples (seeded), cuts them into batches (right-padded, labels -100 on padding), accumulates the gradients of
 * {@code gradAccum} batches (each batch's mean loss divided by {@code gradAccum}, as HF's Trainer does), clips the
 * total gradient norm, and takes one AdamW step (the optimiser sees only the adapter's A and B). A held-out part
 * ({@code valFraction}) is scored (mean loss over its labelled tokens) after each epoch.
 *
 * <p>After every epoch the output folder gets the adapter in PEFT's format ({@code adapter_config.json},
 * {@code adapter_model.safetensors}) and {@value #STATE}: the adapter, the AdamW moments ({@code optimizer.*}) and
 * the run's position and history in its metadata, one atomic file. A killed run started again with the same
 * settings resumes after its last finished epoch; other settings are refused.
 */
public final class LoraTrainer {

  public static final String STATE = "train_state.safetensors";

  /** Test hook (never set outside tests): stop the run with an exception once this epoch is saved. */
  public static final String STOP_AFTER_EPOCHS_PROPERTY = "pr4j.test.lora.stopAfterEpochs";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The run's settings. */
  public record Options(List<String> targetModules, int r, double alpha, AdamW.Settings adam, double maxGradNorm,
      int epochs, int batchSize, int gradAccum, long seed, double valFraction, double loraDropout) {
    public Options {
      if (!(loraDropout >= 0 && loraDropout < 1)) {
        throw new IllegalArgumentException("lora_dropout must be in [0, 1), is " + loraDropout);
      }
      if (epochs < 1 || batchSize < 1 || gradAccum < 1) {
        throw new IllegalArgumentException("epochs, batch size and gradient accumulation must be at least 1");
      }
      if (!(valFraction >= 0 && valFraction < 1)) {
        throw new IllegalArgumentException("the validation fraction must be in [0, 1), is " + valFraction);
      }
    }

    ObjectNode identity() {
      ObjectNode n = JSON.createObjectNode();
      targetModules.forEach(n.putArray("target_modules")::add);
      n.put("r", r).put("alpha", alpha).put("lr", adam.lr()).put("beta1", adam.beta1()).put("beta2", adam.beta2())
          .put("eps", adam.eps()).put("weight_decay", adam.weightDecay()).put("max_grad_norm", maxGradNorm)
          .put("epochs", epochs).put("batch_size", batchSize).put("grad_accum", gradAccum).put("seed", seed)
          .put("val_fraction", valFraction).put("lora_dropout", loraDropout);
      return n;
    }
  }

  /** One finished epoch: mean training loss and held-out loss (NaN without a held-out part). */
  public record Epoch(int epoch, double trainLoss, double valLoss) {}

  public record Result(List<Epoch> epochs, boolean resumed) {}

  private LoraTrainer() {}

  /** Trains (or resumes) into {@code output} on the causal LM of {@code model} (a HF folder or llama2.c file). */
  public static Result train(Path model, List<LoraExamples.Example> examples, Path output, Options o) throws IOException {
    int[] order = org.promptrecovery4j.training.Shuffling.permutation(examples.size(), o.seed());
    int nVal = (int) Math.round(examples.size() * o.valFraction());
    if (examples.size() - nVal < 1) {
      throw new IllegalArgumentException("no training example left after holding out " + nVal);
    }
    List<LoraExamples.Example> val = new ArrayList<>();
    List<LoraExamples.Example> train = new ArrayList<>();
    for (int i = 0; i < order.length; i++) {
      (i < nVal ? val : train).add(examples.get(order[i]));
    }
    Files.createDirectories(output);
    Path stateFile = output.resolve(STATE);
    boolean resumed = Files.isRegularFile(stateFile);
    List<Epoch> history = new ArrayList<>();
    LoraAdapter adapter;
    Map<String, Long> steps = new LinkedHashMap<>();
    Map<String, INDArray[]> moments = new LinkedHashMap<>();
    LoraConfig config = new LoraConfig(o.r(), o.alpha(), false, o.targetModules(), false, o.loraDropout(),
        model.toString());
    if (resumed) {
      adapter = resume(stateFile, o, config, history, steps, moments);
    } else {
      adapter = LoraAdapter.fresh(config, o.seed());
    }
    try (CausalLM lm = adapter.trainable().loadOnto(model, DecoderOptions.defaults())) {
      LoraTraining t = new LoraTraining(lm, adapter, o.adam(), o.maxGradNorm());
      if (resumed) {
        t.optimiser().loadState(steps, moments);
      }
      for (int epoch = history.size() + 1; epoch <= o.epochs(); epoch++) {
        double trainLoss = epoch(t, train, o, epoch);
        double valLoss = val.isEmpty() ? Double.NaN : evaluate(t::loss, val, o.batchSize());
        history.add(new Epoch(epoch, trainLoss, valLoss));
        System.err.printf(Locale.ROOT, "epoch %d/%d: train loss %.4f%s%n", epoch, o.epochs(), trainLoss,
            val.isEmpty() ? "" : String.format(Locale.ROOT, ", held-out loss %.4f", valLoss));
        saveState(t, stateFile, o, history);
        t.save(output, model.toString(), true);
        if (Integer.getInteger(STOP_AFTER_EPOCHS_PROPERTY, -1) == epoch) {
          throw new IllegalStateException("stopped after epoch " + epoch + " (" + STOP_AFTER_EPOCHS_PROPERTY + ", tests only)");
        }
      }
    }
    return new Result(history, resumed);
  }

  private static double epoch(LoraTraining t, List<LoraExamples.Example> train, Options o, int epoch) {
    int[] order = org.promptrecovery4j.training.Shuffling.permutation(train.size(), o.seed() * 31 + epoch);
    int batches = (train.size() + o.batchSize() - 1) / o.batchSize();
    double sum = 0;
    try (Progress progress = Progress.start("epoch " + epoch, batches, Progress.Unit.ITEMS)) {
      Map<String, INDArray> acc = null;
      int inGroup = 0;
      for (int b = 0; b < batches; b++) {
        List<LoraExamples.Example> batch = new ArrayList<>();
        for (int i = b * o.batchSize(); i < Math.min(train.size(), (b + 1) * o.batchSize()); i++) {
          batch.add(train.get(order[i]));
        }
        Batch x = Batch.of(batch);
        // the dropout masks of a batch are a function of (seed, epoch, batch): a resumed run draws the same ones
        long dropoutSeed = (o.seed() * 1_000_003L + epoch) * 1_000_003L + b;
        CausalLmLoss.Pass pass = t.forwardBackward(x.ids(), x.mask(), x.labels(), dropoutSeed);
        sum += pass.loss();
        acc = LoraTraining.accumulate(acc, pass.gradients(), 1.0 / o.gradAccum());
        inGroup++;
        if (inGroup == o.gradAccum() || b == batches - 1) {
          t.apply(acc);
          acc = null;
          inGroup = 0;
        }
        progress.advance(1);
      }
    }
    return sum / batches;
  }

  /** A batch's mean loss over its labelled tokens: {@link LoraTraining#loss} or {@link CausalLmLoss#loss}. */
  @FunctionalInterface
  public interface BatchLoss {
    double loss(INDArray inputIds, INDArray attentionMask, int[][] labels);
  }

  /** Mean loss over the labelled tokens of {@code examples} (LoraTraining's loss: evaluation mode, no dropout). */
  public static double evaluate(BatchLoss t, List<LoraExamples.Example> examples, int batchSize) {
    double weighted = 0;
    long tokens = 0;
    for (int start = 0; start < examples.size(); start += batchSize) {
      Batch x = Batch.of(examples.subList(start, Math.min(examples.size(), start + batchSize)));
      int n = x.labelledTokens();
      weighted += t.loss(x.ids(), x.mask(), x.labels()) * n;
      tokens += n;
    }
    return weighted / tokens;
  }

  /** A right-padded batch: ids (pad 0, masked), mask, labels (-100 on padding). */
  record Batch(INDArray ids, INDArray mask, int[][] labels) {
    static Batch of(List<LoraExamples.Example> examples) {
      int len = examples.stream().mapToInt(e -> e.ids().length).max().orElseThrow();
      long[][] ids = new long[examples.size()][len];
      float[][] mask = new float[examples.size()][len];
      int[][] labels = new int[examples.size()][len];
      for (int i = 0; i < ids.length; i++) {
        LoraExamples.Example e = examples.get(i);
        java.util.Arrays.fill(labels[i], CausalLmLoss.IGNORE);
        for (int t = 0; t < e.ids().length; t++) {
          ids[i][t] = e.ids()[t];
          mask[i][t] = 1;
          labels[i][t] = e.labels()[t];
        }
      }
      return new Batch(Nd4j.createFromArray(ids), Nd4j.createFromArray(mask), labels);
    }

    /** Tokens the loss is taken on (a label at t counts when t ≥ 1: position t − 1 predicts it). */
    int labelledTokens() {
      int n = 0;
      for (int[] row : labels) {
        for (int t = 1; t < row.length; t++) {
          n += row[t] == CausalLmLoss.IGNORE ? 0 : 1;
        }
      }
      return n;
    }
  }

  private static LoraAdapter resume(Path file, Options o, LoraConfig config, List<Epoch> history, Map<String, Long> steps,
      Map<String, INDArray[]> moments) throws IOException {
    try (SafetensorsFile w = SafetensorsFile.open(file)) {
      String trainer = w.metadata().get("lora_trainer");
      if (trainer == null) {
        throw new IllegalArgumentException(file + ": not a train-lora state (no 'lora_trainer' metadata)");
      }
      JsonNode meta = JSON.readTree(trainer);
      if (!meta.path("options").toString().equals(o.identity().toString())) {
        throw new IllegalArgumentException(file.getParent() + " holds a run with other settings " + meta.path("options")
            + "; these are " + o.identity() + ". Use another --output, or the same settings to resume it");
      }
      for (JsonNode e : meta.path("history")) {
        history.add(new Epoch(e.path("epoch").asInt(), e.path("train_loss").asDouble(),
            e.path("val_loss").isNumber() ? e.path("val_loss").asDouble() : Double.NaN));
      }
      LoraAdapter adapter = LoraAdapter.fromTensors(file.getParent(), config, w);
      for (String n : adapter.parameterNames()) {
        if (w.contains("optimizer." + n + ".exp_avg")) {
          steps.put(n, meta.path("optimizer_steps").path(n).asLong());
          moments.put(n, new INDArray[] {w.loadFloat("optimizer." + n + ".exp_avg"), w.loadFloat("optimizer." + n + ".exp_avg_sq")});
        }
      }
      System.err.println("resuming " + file.getParent() + " after epoch " + history.size());
      return adapter;
    }
  }

  private static void saveState(LoraTraining t, Path file, Options o, List<Epoch> history) throws IOException {
    TensorMap m = new TensorMap();
    t.parameters().forEach(m::put);
    ObjectNode meta = JSON.createObjectNode();
    meta.set("options", o.identity());
    ObjectNode optSteps = meta.putObject("optimizer_steps");
    t.optimiser().state().forEach((n, st) -> {
      m.put("optimizer." + n + ".exp_avg", st.expAvg()).put("optimizer." + n + ".exp_avg_sq", st.expAvgSq());
      optSteps.put(n, st.step());
    });
    ArrayNode h = meta.putArray("history");
    for (Epoch e : history) {
      ObjectNode n = h.addObject().put("epoch", e.epoch()).put("train_loss", e.trainLoss());
      if (!Double.isNaN(e.valLoss())) {
        n.put("val_loss", e.valLoss());
      }
    }
    SafetensorsWriter.write(file, m, m.names(), Map.of("format", "pt", "lora_trainer", meta.toString()));
  }
}
