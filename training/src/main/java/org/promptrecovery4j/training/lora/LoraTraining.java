package org.promptrecovery4j.training.lora;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.AtomicFiles;
import org.promptrecovery4j.models.generation.CausalLM;
import org.promptrecovery4j.models.lora.LoraAdapter;
import org.promptrecovery4j.models.lora.LoraConfig;
import org.promptrecovery4j.training.MemoryGuard;
import org.promptrecovery4j.training.TensorMap;
import org.promptrecovery4j.training.optim.AdamW;
import org.promptrecovery4j.training.optim.GradClipping;

/**
 * Trains a LoRA adapter on a causal LM: each step is HF's causal-LM loss on one batch ({@link CausalLmLoss}), the
 * gradients of the adapter's A and B (the base weights are graph constants and get neither gradients nor optimiser
 * state), optional gradient-norm clipping, and one {@link AdamW} step that updates the graph's variables in place.
 * With {@code lora_dropout} > 0 each pass draws fresh dropout masks from the pass's seed ({@link
 * LoraAdapter#dropoutFeed}), as PEFT's training mode does; {@link #loss} evaluates without dropout.
 * {@link #save} writes the adapter in PEFT's format, so PEFT loads it.
 */
public final class LoraTraining {

  private final CausalLM model;
  private final LoraAdapter adapter;
  private final CausalLmLoss loss;
  private final AdamW optimiser;
  private final double maxGradNorm;

  /**
   * @param model the causal LM built with {@code adapter} (trainable; see {@link LoraAdapter#loadOnto})
   * @param maxGradNorm clip the gradients' total L2 norm to this (0 = no clipping)
   */
  public LoraTraining(CausalLM model, LoraAdapter adapter, AdamW.Settings settings, double maxGradNorm) {
    this.model = model;
    this.adapter = adapter;
    this.loss = new CausalLmLoss(model);
    this.optimiser = new AdamW(settings);
    this.maxGradNorm = maxGradNorm;
  }

  public AdamW optimiser() {
    return optimiser;
  }

  /** The PEFT names of the adapter's tensors. */
  public List<String> parameterNames() {
    return adapter.parameterNames();
  }

  /** The adapter's tensors as they are now in the graph, by PEFT name. */
  public Map<String, INDArray> parameters() {
    Map<String, INDArray> out = new LinkedHashMap<>();
    for (String n : adapter.parameterNames()) {
      out.put(n, model.graph().getVariable(n).getArr());
    }
    return out;
  }

  /**
   * One optimiser step on a batch ({@code labels}: ids to predict, -100 ignored), dropout masks drawn from the
   * optimiser's step count; returns the loss before it.
   */
  public double step(INDArray inputIds, INDArray attentionMask, int[][] labels) {
    long seed = optimiser.state().values().stream().mapToLong(AdamW.ParamState::step).max().orElse(0);
    CausalLmLoss.Pass pass = forwardBackward(inputIds, attentionMask, labels, seed);
    apply(pass.gradients());
    return pass.loss();
  }

  /**
   * The loss and the adapter's gradients on one batch in training mode; with dropout, the masks come from
   * {@code dropoutSeed} (the same seed, the same masks). The gradients are the caller's: pass them to
   * {@link #apply} or {@link #accumulate}.
   */
  public CausalLmLoss.Pass forwardBackward(INDArray inputIds, INDArray attentionMask, int[][] labels, long dropoutSeed) {
    Map<String, INDArray> masks = adapter.dropoutFeed(inputIds.length(), dropoutSeed);
    try {
      return loss.lossAndGradients(inputIds, attentionMask, labels, adapter.parameterNames(), masks);
    } finally {
      masks.values().forEach(INDArray::close);
    }
  }

  /** {@code into} += {@code scale} × {@code gradients} (a new map when {@code into} is null); closes {@code gradients}. */
  public static Map<String, INDArray> accumulate(Map<String, INDArray> into, Map<String, INDArray> gradients, double scale) {
    Map<String, INDArray> out = into == null ? new LinkedHashMap<>() : into;
    gradients.forEach((n, g) -> {
      INDArray acc = out.get(n);
      if (acc == null) {
        out.put(n, g.mul(scale));
      } else {
        acc.addi(g.mul(scale));
      }
      g.close();
    });
    return out;
  }

  /** Clips (if set), takes one AdamW step with {@code gradients} and closes them. */
  public void apply(Map<String, INDArray> gradients) {
    if (maxGradNorm > 0) {
      GradClipping.clipGradNorm(gradients.values(), maxGradNorm);
    }
    optimiser.step(parameters(), gradients);
    gradients.values().forEach(INDArray::close);
    memory.collectIfGrown();
  }

  /** The loss on a batch in evaluation mode (no dropout). */
  public double loss(INDArray inputIds, INDArray attentionMask, int[][] labels) {
    Map<String, INDArray> ones = adapter.noDropoutFeed();
    try {
      return loss.loss(inputIds, attentionMask, labels, ones);
    } finally {
      ones.values().forEach(INDArray::close);
    }
  }

  /** Closed gradients alone do not keep the process flat: see {@link MemoryGuard}. */
  private final MemoryGuard memory = new MemoryGuard();

  /**
   * Writes the adapter as PEFT's {@code save_pretrained} does: {@code adapter_config.json} and
   * {@code adapter_model.safetensors} (tensors {@code base_model.model.<module>.lora_A.weight} / {@code lora_B}),
   * the folder complete or not at all. {@code baseModel} goes into {@code base_model_name_or_path}.
   */
  public void save(Path dir, String baseModel) throws IOException {
    save(dir, baseModel, false);
  }

  /**
   * {@link #save(Path, String)}; with {@code inPlace} the two files are replaced one by one (each atomically) in an
   * existing folder, as a trainer does after each epoch.
   */
  public void save(Path dir, String baseModel, boolean inPlace) throws IOException {
    if (inPlace) {
      writeFiles(dir, baseModel);
      return;
    }
    Path staging = AtomicFiles.stagingFolder(dir);
    try {
      writeFiles(staging, baseModel);
      if (!AtomicFiles.publishFolder(staging, dir)) {
        throw new java.nio.file.FileAlreadyExistsException(dir + ": already exists");
      }
    } finally {
      AtomicFiles.discardFolder(staging);
    }
  }

  private void writeFiles(Path dir, String baseModel) throws IOException {
    TensorMap tensors = new TensorMap();
    parameters().forEach(tensors::put);
    tensors.save(dir.resolve("adapter_model.safetensors"));
    byte[] config = new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(peftConfig(baseModel));
    AtomicFiles.write(dir.resolve("adapter_config.json"), out -> out.write(config));
  }

  private ObjectNode peftConfig(String baseModel) {
    LoraConfig c = adapter.config();
    ObjectNode n = new ObjectMapper().createObjectNode();
    n.put("peft_type", "LORA");
    n.put("task_type", "CAUSAL_LM");
    n.put("base_model_name_or_path", baseModel);
    n.put("r", c.r());
    if (c.loraAlpha() == Math.rint(c.loraAlpha())) {
      n.put("lora_alpha", (long) c.loraAlpha());
    } else {
      n.put("lora_alpha", c.loraAlpha());
    }
    n.put("lora_dropout", c.loraDropout());
    n.put("use_rslora", c.useRslora());
    n.put("bias", "none");
    n.put("fan_in_fan_out", false);
    n.put("inference_mode", true);
    n.put("init_lora_weights", true);
    n.putNull("modules_to_save");
    n.putObject("rank_pattern");
    n.putObject("alpha_pattern");
    if (c.targetIsRegex()) {
      n.put("target_modules", c.targetModules().get(0));
    } else {
      c.targetModules().forEach(n.putArray("target_modules")::add);
    }
    return n;
  }
}
