package org.promptrecovery4j.models.deberta;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.ForwardModel;
import org.promptrecovery4j.models.nn.Activations;
import org.promptrecovery4j.models.nn.Attention;
import org.promptrecovery4j.models.nn.Graphs;
import org.promptrecovery4j.models.nn.Linear;
import org.promptrecovery4j.models.nn.ModuleOutputs;
import org.promptrecovery4j.models.nn.LinearPrecision;
import org.promptrecovery4j.models.nn.Norms;
import org.promptrecovery4j.models.nn.ParameterBinder;
import org.promptrecovery4j.models.TokenInputs;
import org.promptrecovery4j.models.Vocabulary;
import org.promptrecovery4j.models.PassPlanner;
import org.promptrecovery4j.weights.ModelFolder;
import org.promptrecovery4j.weights.ModelFormatException;
import org.promptrecovery4j.weights.WeightSource;
import org.promptrecovery4j.weights.config.DebertaV2Config;

/**
 * DeBERTa-v2/v3 encoder ({@code DebertaV2Model} of HF {@code modeling_deberta_v2.py}) in SameDiff:
 * embeddings → N × (disentangled self-attention → output → intermediate gelu → output), returning every
 * hidden state as HF does with {@code output_hidden_states=True}.
 *
 * <p>The graph is built once at load and reruns at any batch size and length. The relative-position
 * gathers of the c2p and p2c terms take their offsets from {@link RelativePositions}, fed per length.
 * Weights may carry the {@code deberta.} prefix (task heads); tensors the encoder does not use are ignored.
 *
 * <p>By default every weight is a frozen constant. Built with a {@code trainable} predicate over HF names without
 * the {@code deberta.} prefix (e.g. {@link #topLayers} for {@code encoder.layer.{L-n..L-1}.*}), the chosen weights
 * are SameDiff variables instead (linear weights transposed, {@code [in, out]}, under their HF names), so that
 * autodiff reaches them through {@link #graph()}; {@link #inputs} and {@link #hiddenStateNames} let a caller extend
 * the graph. Frozen layers compute exactly as before; a layer whose relative-position projection trains selects its
 * position rows by a one-hot product instead of a gather (SameDiff M2.1's gather has no gradient).
 *
 * <p>Loaded with {@link LinearPrecision#BF16}, the frozen linear layers (query/key/value, the position projections,
 * attention output, intermediate and output dense) hold bf16 weights and multiply in bf16 (see {@link Linear});
 * embeddings, LayerNorms, the c2p/p2c scores, softmax and residuals stay float32.
 */
public final class DebertaV2Model implements ForwardModel {

  /** Live activation bytes per attention-score element and layer in one pass (measured, see PassPlanner). */
  private static final int BYTES_PER_SCORE = 72;

  private static final String IDS = "input_ids";
  private static final String MASK = "attention_mask";
  private static final String POSITION_IDS = "position_ids";
  private static final String C2P = "c2p_rows";
  private static final String P2C = "p2c_rows";
  private static final String SKEW_BEGIN = "skew_begin";
  private static final String SKEW_END = "skew_end";
  private static final String SKEW_COLS = "skew_cols";

  private final DebertaV2Config config;
  private final Predicate<String> trainable;
  private final LinearPrecision precision;
  private final String prefix;
  private final SameDiff sd;
  private final List<String> trainableNames = new ArrayList<>();
  private final ParameterBinder binder;
  private SDVariable idsInput;
  private SDVariable maskBias;
  private SDVariable rel;
  private TrainableTop top;
  private final java.util.Set<String> transposed = new java.util.HashSet<>();
  private final List<String> hiddenStates = new ArrayList<>();
  private final boolean c2p;
  private final boolean p2c;
  private final int span;
  private final Map<String, SDVariable> rowInputs = new LinkedHashMap<>();
  private SDVariable batchZeros;
  private Vocabulary vocabulary;
  private ModuleOutputs modules;
  private SDVariable skewBegin;
  private SDVariable skewEnd;
  private SDVariable skewCols;
  private final Map<Integer, INDArray[]> rowCache = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Integer, INDArray[]> eldest) {
      return size() > 8;
    }
  };

  private DebertaV2Model(DebertaV2Config config, WeightSource weights, Predicate<String> trainable,
      LinearPrecision precision) {
    this.config = config;
    this.trainable = trainable;
    this.precision = precision;
    if (config.convKernelSize() > 0) {
      throw new ModelFormatException(weights.location() + ": DeBERTa-v2 ConvLayer (conv_kernel_size > 0) is not supported");
    }
    if (config.hiddenSize() % config.numAttentionHeads() != 0) {
      throw new ModelFormatException(weights.location() + ": hidden_size " + config.hiddenSize()
          + " is not a multiple of num_attention_heads " + config.numAttentionHeads());
    }
    this.c2p = config.posAttType().contains("c2p");
    this.p2c = config.posAttType().contains("p2c");
    this.span = config.posEbdSize();
    this.sd = Graphs.newGraph();
    for (String table : List.of("embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight")) {
      if (trainable.test(table)) {
        throw new IllegalArgumentException(table + " cannot train: SameDiff 1.0.0-M2.1's gather has no gradient"
            + " (unfreeze encoder layers, e.g. DebertaV2Model.topLayers)");
      }
    }
    this.prefix = prefixOf(weights);
    this.binder = new ParameterBinder(sd, weights, name -> trainable.test(withoutPrefix(name, prefix)), precision);
    build(binder, prefix);
    for (SDVariable v : sd.variables()) {
      if (v.getVariableType() == VariableType.VARIABLE) {
        trainableNames.add(v.name());
        if (binder.isTransposed(v.name())) {
          transposed.add(v.name());
        }
      }
    }
  }

  private static String withoutPrefix(String name, String prefix) {
    return name.startsWith(prefix) ? name.substring(prefix.length()) : name;
  }

  /**
   * The weights of the top {@code n} encoder layers, {@code encoder.layer.{L-n..L-1}.*} (HF names without the
   * {@code deberta.} prefix): {@code n = L} is every layer; embeddings and the shared relative-position table
   * ({@code encoder.rel_embeddings}, {@code encoder.LayerNorm}) are not layers and stay frozen.
   */
  public static Predicate<String> topLayers(DebertaV2Config config, int n) {
    int layers = config.numHiddenLayers();
    if (n < 0 || n > layers) {
      throw new IllegalArgumentException("cannot unfreeze the top " + n + " layers of a model with " + layers);
    }
    return name -> {
      for (int i = layers - n; i < layers; i++) {
        if (name.startsWith("encoder.layer." + i + ".")) {
          return true;
        }
      }
      return false;
    };
  }

  /**
   * Every weight of the encoder: all layers, the shared relative-position table {@code encoder.rel_embeddings} and
   * its {@code encoder.LayerNorm} (HF names without {@code deberta.}). The embeddings stay frozen: their tables
   * cannot train (no gradient through SameDiff M2.1's gather).
   */
  public static Predicate<String> wholeEncoder() {
    return name -> name.startsWith("encoder.");
  }

  /** Loads a HF DeBERTa-v2/v3 folder (safetensors or pytorch_model.bin; any dtype, computed in float32). */
  public static DebertaV2Model load(Path dir) throws IOException {
    try (ModelFolder folder = ModelFolder.open(dir)) {
      return load(folder);
    }
  }

  public static DebertaV2Model load(ModelFolder folder) throws IOException {
    return load(folder, LinearPrecision.FLOAT32);
  }

  /** Loads a HF DeBERTa-v2/v3 folder, every weight frozen, its linear layers computed in {@code precision}. */
  public static DebertaV2Model load(Path dir, LinearPrecision precision) throws IOException {
    try (ModelFolder folder = ModelFolder.open(dir)) {
      return load(folder, precision);
    }
  }

  public static DebertaV2Model load(ModelFolder folder, LinearPrecision precision) throws IOException {
    return new DebertaV2Model(debertaConfig(folder), folder.weights(), name -> false, precision);
  }

  private static DebertaV2Config debertaConfig(ModelFolder folder) {
    if (!(folder.config() instanceof DebertaV2Config c)) {
      throw new ModelFormatException(folder.dir() + ": not a deberta-v2 model (model_type " + folder.config().modelType() + ")");
    }
    return c;
  }

  /** Loads a HF DeBERTa-v2/v3 folder with its top {@code unfrozenTopLayers} encoder layers trainable ({@link #topLayers}). */
  public static DebertaV2Model load(Path dir, int unfrozenTopLayers) throws IOException {
    try (ModelFolder folder = ModelFolder.open(dir)) {
      DebertaV2Config c = debertaConfig(folder);
      return new DebertaV2Model(c, folder.weights(), topLayers(c, unfrozenTopLayers), LinearPrecision.FLOAT32);
    }
  }

  /**
   * Loads a HF DeBERTa-v2/v3 folder with the weights {@code trainable} names (HF names without {@code deberta.})
   * bound as trainable SameDiff variables, the rest as constants.
   */
  public static DebertaV2Model load(Path dir, Predicate<String> trainable) throws IOException {
    try (ModelFolder folder = ModelFolder.open(dir)) {
      return new DebertaV2Model(debertaConfig(folder), folder.weights(), trainable, LinearPrecision.FLOAT32);
    }
  }

  /** Builds the model from a config and any weight source (e.g. random weights for benchmarks). */
  public static DebertaV2Model create(DebertaV2Config config, WeightSource weights) {
    return new DebertaV2Model(config, weights, name -> false, LinearPrecision.FLOAT32);
  }

  /** {@link #create(DebertaV2Config, WeightSource)} with {@code trainable} weights as variables. */
  public static DebertaV2Model create(DebertaV2Config config, WeightSource weights, Predicate<String> trainable) {
    return new DebertaV2Model(config, weights, trainable, LinearPrecision.FLOAT32);
  }

  /**
   * {@link #create(DebertaV2Config, WeightSource, Predicate)} with the frozen linear layers computed in
   * {@code precision} (trainable weights stay float32).
   */
  public static DebertaV2Model create(DebertaV2Config config, WeightSource weights, Predicate<String> trainable,
      LinearPrecision precision) {
    return new DebertaV2Model(config, weights, trainable, precision);
  }

  /** How the frozen linear layers compute. */
  public LinearPrecision precision() {
    return precision;
  }

  /**
   * The names of the model's trainable variables (checkpoint names, linear weights held as {@code [in, out]}), in
   * graph order; variables a caller adds to {@link #graph()} later are not the model's.
   */
  public List<String> trainableNames() {
    return List.copyOf(trainableNames);
  }

  /**
   * The trainable weights as they are now, under their checkpoint names and in the checkpoint's layout (linear
   * weights transposed back to {@code [out, in]}), float32 copies: what a HF checkpoint of the trained model holds.
   */
  public Map<String, INDArray> trainableWeights() {
    Map<String, INDArray> out = new LinkedHashMap<>();
    for (String n : trainableNames()) {
      INDArray a = sd.getArrForVarName(n);
      out.put(n, transposed.contains(n) ? a.transpose().dup('c') : a.dup('c'));
    }
    return out;
  }

  /** The graph's outputs {@code hidden_states[0..L]} (embeddings, then each layer), by variable name. */
  public List<String> hiddenStateNames() {
    return List.copyOf(hiddenStates);
  }

  /** The name of the {@code attention_mask} placeholder ([B, L] float32) a caller may reuse in the graph. */
  public static String attentionMaskName() {
    return MASK;
  }

  /** The ids the model embeds: the rows of its loaded {@code word_embeddings}. */
  public Vocabulary vocabulary() {
    return vocabulary;
  }

  public DebertaV2Config config() {
    return config;
  }

  /** The SameDiff graph (for tools that extend or inspect it). */
  public SameDiff graph() {
    return sd;
  }

  private static String prefixOf(WeightSource w) {
    return w.contains("deberta.embeddings.word_embeddings.weight") ? "deberta." : "";
  }

  // ---------------------------------------------------------------- graph

  private void build(ParameterBinder p, String prefix) {
    SDVariable ids = sd.placeHolder(IDS, DataType.INT, -1, -1);
    SDVariable mask = sd.placeHolder(MASK, DataType.FLOAT, -1, -1);
    p.modulePrefix("deberta."); // HF task models (ForSequenceClassification, …) hold the base model under "deberta"
    modules = p.outputs();
    SDVariable h = modules.put(prefix + "embeddings", embeddings(p, prefix + "embeddings.", ids, mask));
    hiddenStates.add(h.name());
    idsInput = ids;
    maskBias = Attention.paddingMask(mask);
    rel = config.relativeAttention() ? relEmbeddings(p, prefix + "encoder.") : null;
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      h = modules.put(prefix + "encoder.layer." + i, layer(p, prefix + "encoder.layer." + i + ".", h, maskBias, rel, ids));
      hiddenStates.add(h.name());
    }
    modules.put(prefix + "encoder", h);
  }

  /**
   * The part of the encoder a training pass differentiates: layers {@code from..L-1} once more, as a second chain of
   * the graph on the same weights, starting from a placeholder {@link #input} fed with {@code hidden_states[from]}
   * of a frozen (inference) pass. {@code from} is the first layer with a trainable weight (0 when the shared
   * relative-position table or its LayerNorm trains), at most L-1 so that the chain holds the last two hidden
   * states. A training pass through the whole graph would keep every frozen layer's activations for the backward
   * pass (DeBERTa-v3-large shapes, top 2 layers, 8 texts of 128 tokens: past 17 GiB in its first step, against
   * 12.4 GiB with this chain).
   *
   * @param hiddenStates {@code hidden_states[from..L]} of the chain: the placeholder, then each layer's output
   */
  public record TrainableTop(int from, String input, List<String> hiddenStates) {}

  /** The chain of {@link TrainableTop}, added to the graph on first use. */
  public synchronized TrainableTop trainableTop() {
    if (top == null) {
      int layers = config.numHiddenLayers();
      int from = layers - 1;
      for (String n : trainableNames) {
        String name = withoutPrefix(n, prefix);
        if (!name.startsWith("encoder.")) {
          throw new IllegalStateException(n + " trains, but the trainable top starts at hidden_states[0], after the"
              + " embeddings: only encoder weights can train through it");
        }
        if (!name.startsWith("encoder.layer.")) {
          from = 0; // the shared relative-position table or its LayerNorm: every layer uses it
          break;
        }
        int dot = name.indexOf('.', "encoder.layer.".length());
        from = Math.min(from, Integer.parseInt(name.substring("encoder.layer.".length(), dot)));
      }
      SDVariable h = sd.placeHolder("trainable_top_input", DataType.FLOAT, -1, -1, config.hiddenSize());
      List<String> states = new ArrayList<>(List.of(h.name()));
      for (int i = from; i < layers; i++) {
        h = layer(binder, prefix + "encoder.layer." + i + ".", h, maskBias, rel, idsInput);
        states.add(h.name());
      }
      top = new TrainableTop(from, states.get(0), List.copyOf(states));
    }
    return top;
  }

  /** {@code hidden_states[index]} of a batch (an inference pass through the layers below it), for a caller's graph feed. */
  public INDArray hiddenState(int index, Map<String, INDArray> inputs) {
    return Graphs.output(sd, inputs, hiddenStates.get(index)).get(hiddenStates.get(index));
  }

  /** DebertaV2Embeddings: word (+ absolute position) (+ token type 0) → embed_proj → LayerNorm → × mask. */
  private SDVariable embeddings(ParameterBinder p, String pre, SDVariable ids, SDVariable mask) {
    int e = config.embeddingSize();
    p.expectShape(pre + "word_embeddings.weight", "embedding_size " + e, -1, e);
    p.expectShape(pre + "position_embeddings.weight", "embedding_size " + e, -1, e);
    p.expectShape(pre + "LayerNorm.weight", "hidden_size " + config.hiddenSize(), config.hiddenSize());
    SDVariable words = p.parameter(pre + "word_embeddings.weight");
    vocabulary = Vocabulary.of("DeBERTa", pre + "word_embeddings.weight", words.getArr().size(0), config.vocabSize());
    SDVariable flat = sd.gather(words, ids.reshape(-1), 0);
    SDVariable x = modules.put(pre + "word_embeddings",
        flat.reshape(sd.concat(0, sd.shape(ids).castTo(DataType.LONG), sd.constant(Nd4j.createFromArray((long) e)))));
    if (config.positionBiasedInput()) {
      SDVariable positions = sd.placeHolder(POSITION_IDS, DataType.INT, -1);
      x = x.add(sd.gather(p.parameter(pre + "position_embeddings.weight"), positions, 0));
    }
    if (config.typeVocabSize() > 0) { // token_type_ids are all zeros
      x = x.add(p.parameter(pre + "token_type_embeddings.weight").get(SDIndex.point(0)));
    }
    if (e != config.hiddenSize()) {
      x = Linear.load(p, pre + "embed_proj", false).forward(x, 3);
    }
    x = modules.put(pre + "LayerNorm",
        Norms.layerNorm(x, p.parameter(pre + "LayerNorm.weight"), p.parameter(pre + "LayerNorm.bias"), config.layerNormEps(), 2));
    return x.mul(sd.expandDims(mask, 2));
  }

  /** The encoder's rel_embeddings table [2·span, hidden], LayerNorm'ed if {@code norm_rel_ebd} says so. */
  private SDVariable relEmbeddings(ParameterBinder p, String pre) {
    p.expectShape(pre + "rel_embeddings.weight", "hidden_size " + config.hiddenSize(), -1, config.hiddenSize());
    SDVariable rel = p.parameter(pre + "rel_embeddings.weight");
    long rows = rel.getShape()[0];
    if (config.usesLayerNormOnRelativeEmbeddings()) {
      rel = Norms.layerNorm(rel, p.parameter(pre + "LayerNorm.weight"), p.parameter(pre + "LayerNorm.bias"), config.layerNormEps(), 1);
    }
    if (rows < 2L * span) {
      throw new ModelFormatException(p.weights().location() + ": " + pre + "rel_embeddings.weight has " + rows
          + " rows, the config needs " + 2 * span);
    }
    return rows == 2L * span ? rel : rel.get(SDIndex.interval(0L, 2L * span));
  }

  /** DebertaV2Layer: attention (+ output LayerNorm) → intermediate → output LayerNorm. */
  private SDVariable layer(ParameterBinder p, String pre, SDVariable h, SDVariable maskBias, SDVariable rel, SDVariable ids) {
    SDVariable context = modules.put(pre + "attention.self", selfAttention(p, pre + "attention.self.", h, maskBias, rel, ids));
    SDVariable attnOut = modules.put(pre + "attention.output",
        residualNorm(p, pre + "attention.output.", context, h, config.hiddenSize()));
    modules.put(pre + "attention", attnOut);
    SDVariable inter = modules.put(pre + "intermediate.intermediate_act_fn",
        Activations.apply(config.hiddenAct(), Linear.load(p, pre + "intermediate.dense", true).forward(attnOut, 3)));
    modules.put(pre + "intermediate", inter);
    return modules.put(pre + "output", residualNorm(p, pre + "output.", inter, attnOut, config.intermediateSize()));
  }

  /** DebertaV2SelfOutput / DebertaV2Output: {@code LayerNorm(dense(x) + residual)}. */
  private SDVariable residualNorm(ParameterBinder p, String pre, SDVariable x, SDVariable residual, int inFeatures) {
    SDVariable y = Linear.load(p, pre + "dense", true).forward(x, 3).add(residual);
    return modules.put(pre + "LayerNorm",
        Norms.layerNorm(y, p.parameter(pre + "LayerNorm.weight"), p.parameter(pre + "LayerNorm.bias"), config.layerNormEps(), 2));
  }

  /**
   * DisentangledSelfAttention: {@code softmax((q·kᵀ + c2p + p2c) / √(d·scale_factor) + mask) · v}, where
   * scale_factor is 1 + one per term of {@code pos_att_type}.
   */
  private SDVariable selfAttention(ParameterBinder p, String pre, SDVariable h, SDVariable maskBias, SDVariable rel, SDVariable ids) {
    int heads = config.numAttentionHeads();
    int d = config.headDim();
    Linear qProj = Linear.load(p, pre + "query_proj", true);
    Linear kProj = Linear.load(p, pre + "key_proj", true);
    SDVariable q = Attention.splitHeads(qProj.forward(h, 3), heads, d);
    SDVariable k = Attention.splitHeads(kProj.forward(h, 3), heads, d);
    SDVariable v = Attention.splitHeads(Linear.load(p, pre + "value_proj", true).forward(h, 3), heads, d);
    int scaleFactor = 1 + (c2p ? 1 : 0) + (p2c ? 1 : 0);
    SDVariable scores = sd.mmul(q, k, false, true, false);
    if (rel != null) {
      scores = scores.add(disentangledBias(p, pre, q, k, rel, qProj, kProj, ids));
    }
    scores = scores.mul(1.0 / Math.sqrt((double) d * scaleFactor)).add(maskBias);
    SDVariable probs = sd.nn.softmax(scores, 3);
    return Attention.mergeHeads(sd.mmul(probs, v), heads, d);
  }

  /**
   * The c2p and p2c terms (unscaled) of {@code disentangled_attention_bias}, [B, heads, L, L].
   *
   * <p>HF gathers the [L, 2·span] position scores with a per-(query, key) index. Here the projected
   * position rows are first gathered by relative distance (row {@code n} for distance {@code L−1−n},
   * fed as {@code c2p_rows}/{@code p2c_rows}), scored against all tokens ([B, H, L, 2L]), and the [L, L]
   * term read off by the relative-shift skew: {@code out[i][j] = X[i][L−1−i+j]}. Same values, no
   * element-wise gather (SameDiff's gather costs ~1 µs per index).
   */
  private SDVariable disentangledBias(ParameterBinder p, String pre, SDVariable q, SDVariable k, SDVariable rel,
      Linear qProj, Linear kProj, SDVariable ids) {
    SDVariable score = null;
    if (c2p) {
      Linear posKeyProj = config.shareAttKey() ? kProj : Linear.load(p, pre + "pos_key_proj", true);
      SDVariable posKey = positionRows(posKeyProj, rel, C2P, ids); // [B, H, 2L, D]
      score = skew(sd.mmul(q, posKey, false, true, false));
    }
    if (p2c) {
      Linear posQueryProj = config.shareAttKey() ? qProj : Linear.load(p, pre + "pos_query_proj", true);
      SDVariable posQuery = positionRows(posQueryProj, rel, P2C, ids);
      SDVariable t = skew(sd.mmul(k, posQuery, false, true, false)).permute(0, 1, 3, 2);
      score = score == null ? t : score.add(t);
    }
    return score;
  }

  /**
   * Projected position embeddings {@code proj(rel)} [2span, H·D] → the rows of the fed distance order, per head
   * and broadcast over the batch: [B, H, 2L, D] (SameDiff's batched mmul does not broadcast; adding a
   * [B, 1, 1, 1] zero is much cheaper than its tile op).
   */
  private SDVariable positionRows(Linear proj, SDVariable rel, String rowsName, SDVariable ids) {
    SDVariable rows = rowInputs.computeIfAbsent(rowsName, n -> sd.placeHolder(n, DataType.INT, -1));
    int heads = config.numAttentionHeads();
    SDVariable picked = trains(proj)
        ? proj.forward(sd.mmul(sd.oneHot(rows, 2 * span, -1, 1.0, 0.0, DataType.FLOAT), rel), 2) // differentiable
        : sd.gather(proj.forward(rel, 2), rows, 0);
    SDVariable x = picked.reshape(-1, heads, config.headDim()).permute(1, 0, 2);
    if (batchZeros == null) {
      batchZeros = sd.zerosLike(ids).castTo(DataType.FLOAT).get(SDIndex.all(), SDIndex.interval(0, 1)).reshape(-1, 1, 1, 1);
    }
    return sd.expandDims(x, 0).add(batchZeros);
  }

  /** Whether a position projection needs gradients: its weight or bias trains, or the rel table (or its LayerNorm). */
  private boolean trains(Linear proj) {
    String name = withoutPrefix(proj.name(), prefix);
    return trainable.test(name + ".weight") || trainable.test(name + ".bias")
        || trainable.test("encoder.rel_embeddings.weight") || trainable.test("encoder.LayerNorm.weight")
        || trainable.test("encoder.LayerNorm.bias");
  }

  /**
   * The relative-shift skew of [B, H, L, 2L] scores: {@code out[.., i, j] = x[.., i, L−1−i+j]}, by
   * flattening each [L, 2L] matrix, dropping its first L−1 values, reading rows of 2L−1 and keeping
   * the first L columns (offsets fed per length as {@code skew_begin/skew_end/skew_cols}).
   */
  private SDVariable skew(SDVariable x) {
    if (skewBegin == null) {
      skewBegin = sd.placeHolder(SKEW_BEGIN, DataType.LONG, 3);
      skewEnd = sd.placeHolder(SKEW_END, DataType.LONG, 3);
      skewCols = sd.placeHolder(SKEW_COLS, DataType.LONG, 4);
    }
    SDVariable shape = sd.shape(x).castTo(DataType.LONG);
    SDVariable flat = x.reshape(sd.concat(0, shape.get(SDIndex.interval(0, 2)), sd.constant(Nd4j.createFromArray(-1L))));
    SDVariable shifted = sd.stridedSlice(flat, skewBegin, skewEnd, sd.constant(Nd4j.createFromArray(1L, 1L, 1L)), 3, 3, 0, 0, 0);
    SDVariable rows = shifted.reshape(sd.concat(0, shape.get(SDIndex.interval(0, 3)), sd.constant(Nd4j.createFromArray(-1L))));
    return sd.stridedSlice(rows, sd.constant(Nd4j.createFromArray(0L, 0L, 0L, 0L)), skewCols,
        sd.constant(Nd4j.createFromArray(1L, 1L, 1L, 1L)), 7, 7, 0, 0, 0);
  }

  // ---------------------------------------------------------------- running

  /** The encoder's outputs: {@code last_hidden_state} [B,L,H] and the layers+1 {@code hidden_states}. */
  @Override
  public Map<String, Object> forward(INDArray inputIds, INDArray attentionMask) {
    return forward(inputIds, attentionMask, null, List.of());
  }

  /** With the outputs of the HF modules matching {@code capture} (see {@link ModuleOutputs}) after {@code hidden_states}. */
  @Override
  public Map<String, Object> forward(INDArray inputIds, INDArray attentionMask, INDArray tokenTypeIds,
      java.util.Collection<String> capture) {
    if (tokenTypeIds != null) {
      throw new IllegalArgumentException("DebertaV2Model: this model has no token types; token_type_ids cannot be given");
    }
    TokenInputs in = TokenInputs.check(inputIds, attentionMask, vocabulary);
    int length = in.length();
    if (config.positionBiasedInput() && length > config.maxPositionEmbeddings()) {
      throw new IllegalArgumentException("sequence length " + length + " exceeds max_position_embeddings "
          + config.maxPositionEmbeddings() + " of this model (it uses absolute positions): truncate the input");
    }
    Map<String, String> captured = modules.select(capture);
    List<String> names = ModuleOutputs.withCaptures(hiddenStates, captured);
    int heads = config.numAttentionHeads();
    int layers = config.numHiddenLayers();
    List<INDArray> all = PassPlanner.inChunks(in, PassPlanner.rowsPerPass(length, heads, layers, BYTES_PER_SCORE),
        PassPlanner.bytesPerRow(length, heads, layers, BYTES_PER_SCORE), chunk -> Graphs.outputList(sd, inputs(chunk), names));
    return ModuleOutputs.encoderResult(all, hiddenStates.size(), captured);
  }

  @Override
  public List<String> capturableModules() {
    return modules.names();
  }

  /**
   * The placeholder values of one batch ({@code input_ids}, {@code attention_mask} and the per-length
   * relative-position inputs), for callers that run an extended {@link #graph()} themselves.
   */
  public Map<String, INDArray> inputs(INDArray inputIds, INDArray attentionMask) {
    return inputs(TokenInputs.check(inputIds, attentionMask, vocabulary));
  }

  private Map<String, INDArray> inputs(TokenInputs in) {
    int length = in.length();
    Map<String, INDArray> feed = new LinkedHashMap<>();
    feed.put(IDS, in.ids());
    feed.put(MASK, in.mask());
    if (config.positionBiasedInput()) {
      feed.put(POSITION_IDS, Nd4j.arange(length).castTo(DataType.INT));
    }
    if (config.relativeAttention() && (c2p || p2c)) {
      INDArray[] rows = positionRows(length);
      if (c2p) {
        feed.put(C2P, rows[0]);
      }
      if (p2c) {
        feed.put(P2C, rows[1]);
      }
      long l = length;
      feed.put(SKEW_BEGIN, Nd4j.createFromArray(0L, 0L, l - 1));
      feed.put(SKEW_END, Nd4j.createFromArray(0L, 0L, l - 1 + l * (2 * l - 1)));
      feed.put(SKEW_COLS, Nd4j.createFromArray(0L, 0L, 0L, l));
    }
    return feed;
  }

  private synchronized INDArray[] positionRows(int length) {
    return rowCache.computeIfAbsent(length, l -> {
      int buckets = config.positionBuckets();
      int maxRel = config.effectiveMaxRelativePositions();
      return new INDArray[] {
        Nd4j.createFromArray(RelativePositions.c2pRows(l, span, buckets, maxRel)),
        Nd4j.createFromArray(RelativePositions.p2cRows(l, span, buckets, maxRel))
      };
    });
  }
}
