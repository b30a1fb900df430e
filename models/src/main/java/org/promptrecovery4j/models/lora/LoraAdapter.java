package org.promptrecovery4j.models.lora;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.models.generation.DecoderOptions;
import org.promptrecovery4j.models.nn.Linear;
import org.promptrecovery4j.models.nn.LinearAdapter;
import org.promptrecovery4j.weights.Checkpoints;
import org.promptrecovery4j.weights.ModelFormatException;
import org.promptrecovery4j.weights.TensorInfo;
import org.promptrecovery4j.weights.WeightSource;

/**
 * A HF PEFT LoRA adapter folder ({@code adapter_config.json} + {@code adapter_model.safetensors} or
 * {@code adapter_model.bin}) applied to a causal LM through the adapter hook of {@link DecoderOptions}: each
 * target linear layer {@code W} becomes {@code W x + scaling · B (A x)}, as PEFT's {@code lora.Linear} in eval.
 *
 * <p>Tensor names are PEFT's: {@code base_model.model.<module>.lora_A.weight} ([r, in]) and
 * {@code ...lora_B.weight} ([out, r]). The modules are taken from the tensors; every one must be a linear layer
 * of the model ({@link #checkAllUsed} after the model is built), with matching sizes.
 *
 * <p>Dropout ({@code lora_dropout} > 0) acts only in graphs built {@link #trainable()}: PEFT's training-mode
 * {@code lora_B(lora_A(dropout(x)))}, the mask fed as a placeholder per module ({@link #dropoutFeed}), because
 * M2.1's random ops either cannot be seeded from Java or have no gradient. Such a graph must be fed a mask for
 * every adapted module: {@link #dropoutFeed(long, long)} in training, {@link #noDropoutFeed()} in evaluation.
 */
public final class LoraAdapter {

  private static final String PREFIX = "base_model.model.";

  /** One adapted module: A [r, in] and B [out, r] as float32, and its scaling. */
  public record Module(String name, INDArray a, INDArray b, double scaling) {
    public int rank() {
      return (int) a.size(0);
    }
  }

  private final Path dir;
  private final LoraConfig config;
  private final Map<String, Module> modules;
  private final Set<String> used = new LinkedHashSet<>();
  private boolean trainable;
  /** The activations' type where the masks multiply them (set as the graph is built). */
  private org.nd4j.linalg.api.buffer.DataType maskType = org.nd4j.linalg.api.buffer.DataType.FLOAT;
  /** For a fresh adapter: initialises the modules as the graph meets them; null for a loaded one. */
  private final java.util.Random init;

  private LoraAdapter(Path dir, LoraConfig config, Map<String, Module> modules, java.util.Random init) {
    this.dir = dir;
    this.config = config;
    this.modules = modules;
    this.init = init;
  }

  /**
   * A new adapter with PEFT's default init, trainable: for each linear layer the config's {@code target_modules}
   * match (PEFT's rule: a list entry equal to the module name or to its last dotted parts, or one regular
   * expression matching the whole name), A [r, in] ~ U(−1/√in, 1/√in) (kaiming-uniform with a = √5) and B [out, r]
   * = 0, so the model starts as the base. Seeded; the modules are created in graph-building order.
   */
  public static LoraAdapter fresh(LoraConfig config, long seed) {
    if (config.targetModules().isEmpty()) {
      throw new IllegalArgumentException("a new LoRA adapter needs target modules (e.g. q_proj, v_proj)");
    }
    return new LoraAdapter(Path.of("(new adapter)"), config, new LinkedHashMap<>(), new java.util.Random(seed)).trainable();
  }

  /** PEFT's {@code check_target_module_exists} for a list of names or one regular expression. */
  public boolean targets(String moduleName) {
    List<String> t = config.targetModules();
    if (config.targetIsRegex()) {
      return moduleName.matches(t.get(0));
    }
    for (String x : t) {
      if (moduleName.equals(x) || moduleName.endsWith("." + x)) {
        return true;
      }
    }
    return false;
  }

  /** Loads and checks an adapter folder. */
  public static LoraAdapter load(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new java.io.FileNotFoundException(dir + ": not a folder (expected a PEFT adapter folder)");
    }
    LoraConfig config = LoraConfig.read(dir.resolve("adapter_config.json"));
    try (WeightSource w = Checkpoints.open(weightsFile(dir))) {
      return fromTensors(dir, config, w);
    }
  }

  /**
   * An adapter from {@code config} and the LoRA tensors of {@code w} (PEFT names); a training state's optimiser
   * moments ({@code optimizer.*}) beside them are left alone, any other tensor is an error.
   */
  public static LoraAdapter fromTensors(Path dir, LoraConfig config, WeightSource w) {
    Path weights = w.location();
    Map<String, Module> modules = new LinkedHashMap<>();
    List<String> names = w.names(); // file order: a saved adapter comes back in the order it was written
    for (String n : names) {
      boolean lora = n.startsWith(PREFIX) && (n.endsWith(".lora_A.weight") || n.endsWith(".lora_B.weight"));
      if (!lora && !n.startsWith("optimizer.")) {
        throw new ModelFormatException(weights + ": tensor '" + n + "' is not a LoRA weight (expected "
            + PREFIX + "<module>.lora_A.weight / .lora_B.weight)");
      }
    }
    for (String n : names) {
      if (n.startsWith(PREFIX) && n.endsWith(".lora_A.weight")) {
        String module = n.substring(PREFIX.length(), n.length() - ".lora_A.weight".length());
        modules.put(module, module(w, weights, module, config));
      }
    }
    for (String n : names) {
      if (n.startsWith(PREFIX) && n.endsWith(".lora_B.weight")) {
        String module = n.substring(PREFIX.length(), n.length() - ".lora_B.weight".length());
        if (!modules.containsKey(module)) {
          throw new ModelFormatException(weights + ": '" + n + "' has no matching lora_A.weight");
        }
      }
    }
    if (modules.isEmpty()) {
      throw new ModelFormatException(weights + ": no LoRA tensors");
    }
    return new LoraAdapter(dir, config, modules, null);
  }

  private static Path weightsFile(Path dir) {
    for (String f : new String[] {"adapter_model.safetensors", "adapter_model.bin"}) {
      if (Files.isRegularFile(dir.resolve(f))) {
        return dir.resolve(f);
      }
    }
    throw new ModelFormatException(dir + ": no adapter_model.safetensors or adapter_model.bin");
  }

  private static Module module(WeightSource w, Path file, String module, LoraConfig config) {
    String an = PREFIX + module + ".lora_A.weight";
    String bn = PREFIX + module + ".lora_B.weight";
    if (!w.contains(bn)) {
      throw new ModelFormatException(file + ": '" + an + "' has no matching lora_B.weight");
    }
    TensorInfo a = w.info(an);
    TensorInfo b = w.info(bn);
    if (a.shape().length != 2 || b.shape().length != 2 || a.shape()[0] != b.shape()[1]) {
      throw new ModelFormatException(file + ": " + module + ": lora_A " + a.shapeString() + " and lora_B "
          + b.shapeString() + " are not [r, in] and [out, r] of one rank");
    }
    int rank = (int) a.shape()[0];
    return new Module(module, w.loadFloat(an), w.loadFloat(bn), config.scaling(rank));
  }

  public Path dir() {
    return dir;
  }

  public LoraConfig config() {
    return config;
  }

  /** The adapted modules by HF name ({@code model.layers.0.self_attn.q_proj}). */
  public Map<String, Module> modules() {
    return java.util.Collections.unmodifiableMap(modules);
  }

  /**
   * Makes the graphs built from now on hold A and B as trainable variables named as PEFT names the tensors
   * ({@code base_model.model.<module>.lora_A.weight}); the base weights stay constants.
   */
  public LoraAdapter trainable() {
    this.trainable = true;
    return this;
  }

  /** The placeholder name of a module's dropout mask in a trainable graph with dropout. */
  public static String dropoutMaskName(String module) {
    return PREFIX + module + ".lora_dropout.mask";
  }

  /** Whether trainable graphs of this adapter have dropout masks to feed. */
  public boolean hasDropout() {
    return trainable && config.loraDropout() > 0;
  }

  /**
   * Training-mode dropout masks for a pass over {@code rows} flattened tokens (batch × length): per module
   * [rows, in], each element 0 with probability p and 1/(1−p) otherwise, drawn from {@code seed} and the module's
   * position (the same seed gives the same masks). Empty without dropout.
   */
  public Map<String, INDArray> dropoutFeed(long rows, long seed) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    if (!hasDropout()) {
      return out;
    }
    double p = config.loraDropout();
    int i = 0;
    for (Module m : modules.values()) {
      long moduleSeed = seed * 0x9E3779B97F4A7C15L + (++i) * 0xBF58476D1CE4E5B9L;
      org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(moduleSeed);
      try (INDArray u = org.nd4j.linalg.factory.Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, rows, m.a().size(1))) {
        INDArray keep = u.gte(p);
        out.put(dropoutMaskName(m.name()), keep.castTo(maskType).muli(1.0 / (1.0 - p)));
        keep.close();
      }
    }
    return out;
  }

  /** Evaluation-mode masks: ones [1, in] per module (broadcast over the rows), so dropout does nothing. */
  public Map<String, INDArray> noDropoutFeed() {
    Map<String, INDArray> out = new LinkedHashMap<>();
    if (hasDropout()) {
      for (Module m : modules.values()) {
        out.put(dropoutMaskName(m.name()), org.nd4j.linalg.factory.Nd4j.ones(maskType, 1, m.a().size(1)));
      }
    }
    return out;
  }

  /** The graph names of the adapter's tensors, in module order: A then B of each module. */
  public List<String> parameterNames() {
    List<String> out = new java.util.ArrayList<>();
    for (String m : modules.keySet()) {
      out.add(PREFIX + m + ".lora_A.weight");
      out.add(PREFIX + m + ".lora_B.weight");
    }
    return out;
  }

  /** {@code options} with this adapter on its modules (the graph is built with them). */
  public DecoderOptions applyTo(DecoderOptions options) {
    DecoderOptions o = options.withAdapters(this::adapterFor);
    return trainable ? o.withDifferentiable(true) : o;
  }

  /** The hook's adapter for a linear layer, or null when this adapter does not target it. */
  public LinearAdapter adapterFor(String layerName) {
    if (init != null && targets(layerName)) {
      used.add(layerName);
      return (layer, x2d) -> delta(modules.computeIfAbsent(layerName, n -> initialised(n, layer)), layer, x2d);
    }
    Module m = modules.get(layerName);
    if (m == null) {
      return null;
    }
    used.add(layerName);
    return (layer, x2d) -> delta(m, layer, x2d);
  }

  private Module initialised(String name, Linear layer) {
    int r = config.r();
    long in = layer.inFeatures();
    double bound = 1.0 / Math.sqrt(in);
    float[] a = new float[Math.toIntExact(r * in)];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) ((init.nextDouble() * 2 - 1) * bound);
    }
    return new Module(name, org.nd4j.linalg.factory.Nd4j.create(a, new long[] {r, in}, 'c'),
        org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, layer.outFeatures(), r),
        config.scaling(r));
  }

  /** {@code scaling · (x Aᵀ) Bᵀ} on the flattened input [N, in], A [r, in] and B [out, r] as PEFT stores them. */
  private SDVariable delta(Module m, Linear layer, SDVariable x2d) {
    if (m.a().size(1) != layer.inFeatures() || m.b().size(0) != layer.outFeatures()) {
      throw new ModelFormatException(dir + ": " + m.name() + ": lora_A " + Arrays.toString(m.a().shape()) + " / lora_B "
          + Arrays.toString(m.b().shape()) + " do not fit the layer's " + layer.inFeatures() + " → "
          + layer.outFeatures() + " (an adapter for another model?)");
    }
    SameDiff sd = x2d.getSameDiff();
    String an = PREFIX + m.name() + ".lora_A.weight";
    String bn = PREFIX + m.name() + ".lora_B.weight";
    SDVariable a = trainable ? sd.var(an, m.a()) : sd.constant(an, m.a());
    SDVariable b = trainable ? sd.var(bn, m.b()) : sd.constant(bn, m.b());
    SDVariable x = x2d;
    if (hasDropout()) {
      maskType = x2d.dataType();
      x = x2d.mul(sd.placeHolder(dropoutMaskName(m.name()), maskType, -1, layer.inFeatures()));
    }
    return sd.mmul(sd.mmul(x, a, false, true, false), b, false, true, false).mul(m.scaling());
  }

  /**
   * Loads the causal LM of {@code modelDir} (phi, mistral/llama, gemma, llama2.c) with this adapter applied, and
   * checks that every adapted module was one of its linear layers.
   */
  public org.promptrecovery4j.models.generation.CausalLM loadOnto(Path modelDir, DecoderOptions options) throws IOException {
    org.promptrecovery4j.models.generation.CausalLM lm = org.promptrecovery4j.models.Models.loadCausalLM(modelDir, applyTo(options));
    try {
      checkAllUsed();
    } catch (RuntimeException e) {
      lm.close();
      throw e;
    }
    return lm;
  }

  /** After the model is built: every adapted module must have been a linear layer of the model. */
  public void checkAllUsed() {
    if (init != null && modules.isEmpty()) {
      throw new IllegalArgumentException("target_modules " + config.targetModules() + " match no linear layer of the model");
    }
    List<String> unused = modules.keySet().stream().filter(m -> !used.contains(m)).toList();
    if (!unused.isEmpty()) {
      throw new ModelFormatException(dir + ": the adapter targets " + unused + ", which the model has no linear"
          + " layer named (an adapter for another architecture?)");
    }
  }

  /** {@code scaling · B A} [out, in] in float32: what merging adds to the module's weight. */
  public INDArray deltaWeight(String module) {
    Module m = modules.get(module);
    return m.b().mmul(m.a()).muli(m.scaling());
  }
}
