package org.promptrecovery4j.models.t5;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.TokenInputs;
import org.promptrecovery4j.models.Vocabulary;
import org.promptrecovery4j.models.ForwardModel;
import org.promptrecovery4j.models.GraphEncoder;
import org.promptrecovery4j.models.PassPlanner;
import org.promptrecovery4j.models.nn.Activations;
import org.promptrecovery4j.models.nn.Attention;
import org.promptrecovery4j.models.nn.Graphs;
import org.promptrecovery4j.models.nn.Linear;
import org.promptrecovery4j.models.nn.ModuleOutputs;
import org.promptrecovery4j.models.nn.LinearPrecision;
import org.promptrecovery4j.models.nn.Norms;
import org.promptrecovery4j.models.nn.ParameterBinder;
import org.promptrecovery4j.weights.ModelFolder;
import org.promptrecovery4j.weights.ModelFormatException;
import org.promptrecovery4j.weights.WeightSource;
import org.promptrecovery4j.weights.config.T5Config;

/**
 * The T5 encoder stack ({@code T5EncoderModel} of HF {@code modeling_t5.py}) in SameDiff: shared
 * embedding → N × (T5LayerNorm → self-attention with the first block's relative position bias →
 * residual, T5LayerNorm → ReLU or gated-gelu feed-forward → residual) → final T5LayerNorm.
 *
 * <p>T5 attention is unscaled; the position bias (buckets of {@link #relativePositionBucket}) is computed
 * once from the first block's table and shared by all blocks. Decoder tensors of a full T5 checkpoint
 * are ignored. One graph serves every batch size and length.
 */
public final class T5EncoderModel implements ForwardModel, GraphEncoder {

  /** Live activation bytes per attention-score element and layer in one pass (estimate, see PassPlanner). */
  private static final int BYTES_PER_SCORE = 24;

  private static final String IDS = "input_ids";
  private static final String MASK = "attention_mask";
  private static final String BUCKETS = "relative_position_buckets";

  private final T5Config config;
  private final SameDiff sd;
  private final SDVariable mask;
  private final List<String> hiddenStates = new ArrayList<>();
  private SDVariable last;
  private Vocabulary vocabulary;
  private ModuleOutputs modules;
  private final Map<Integer, INDArray> bucketCache = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Integer, INDArray> eldest) {
      return size() > 8;
    }
  };

  private T5EncoderModel(T5Config config, WeightSource weights, LinearPrecision precision) {
    this.config = config;
    this.sd = Graphs.newGraph();
    SDVariable ids = sd.placeHolder(IDS, DataType.INT, -1, -1);
    this.mask = sd.placeHolder(MASK, DataType.FLOAT, -1, -1);
    build(new ParameterBinder(sd, weights, name -> false, precision), ids);
  }

  public static T5EncoderModel load(Path dir) throws IOException {
    try (ModelFolder folder = ModelFolder.open(dir)) {
      return load(folder);
    }
  }

  public static T5EncoderModel load(ModelFolder folder) throws IOException {
    return load(folder, LinearPrecision.FLOAT32);
  }

  /**
   * Loads a HF folder with its linear layers computed in {@code precision} ({@link LinearPrecision#BF16}: bf16
   * weights and products; the default is float32, which the metric's exactness needs).
   */
  public static T5EncoderModel load(Path dir, LinearPrecision precision) throws IOException {
    try (ModelFolder folder = ModelFolder.open(dir)) {
      return load(folder, precision);
    }
  }

  public static T5EncoderModel load(ModelFolder folder, LinearPrecision precision) throws IOException {
    if (!(folder.config() instanceof T5Config c)) {
      throw new ModelFormatException(folder.dir() + ": not a t5 model (model_type " + folder.config().modelType() + ")");
    }
    return new T5EncoderModel(c, folder.weights(), precision);
  }

  /** Builds the encoder from a config and any weight source (e.g. random weights for benchmarks). */
  public static T5EncoderModel create(T5Config config, WeightSource weights) {
    return new T5EncoderModel(config, weights, LinearPrecision.FLOAT32);
  }

  /** {@link #create(T5Config, WeightSource)} with the linear layers computed in {@code precision}. */
  public static T5EncoderModel create(T5Config config, WeightSource weights, LinearPrecision precision) {
    return new T5EncoderModel(config, weights, precision);
  }

  public T5Config config() {
    return config;
  }

  // ---------------------------------------------------------------- graph

  private void build(ParameterBinder p, SDVariable ids) {
    String table = p.resolve("shared.weight", "encoder.embed_tokens.weight");
    p.expectShape(table, "d_model " + config.dModel(), -1, config.dModel());
    p.expectShape("encoder.final_layer_norm.weight", "d_model " + config.dModel(), config.dModel());
    for (int i = 0; i < config.numLayers(); i++) {
      String a = "encoder.block." + i + ".layer.0.SelfAttention.";
      String why = "d_model " + config.dModel() + ", num_heads " + config.numHeads() + ", d_kv " + config.dKv();
      for (String w : new String[] {"q", "k", "v"}) {
        p.expectShape(a + w + ".weight", why, config.innerDim(), config.dModel());
      }
      p.expectShape(a + "o.weight", why, config.dModel(), config.innerDim());
    }
    modules = p.outputs();
    SDVariable shared = p.parameter(table);
    vocabulary = Vocabulary.of("T5", table, shared.getArr().size(0), config.vocabSize());
    SDVariable flat = sd.gather(shared, ids.reshape(-1), 0);
    SDVariable h = modules.put("encoder.embed_tokens", // the module T5Stack calls (its weight is `shared`'s)
        flat.reshape(sd.concat(0, sd.shape(ids).castTo(DataType.LONG), sd.constant(Nd4j.createFromArray((long) config.dModel())))));
    SDVariable bias = positionBias(p, ids).add(Attention.paddingMask(mask));
    for (int i = 0; i < config.numLayers(); i++) {
      hiddenStates.add(h.name());
      h = modules.put("encoder.block." + i, block(p, "encoder.block." + i + ".", h, bias));
    }
    h = modules.put("encoder.final_layer_norm",
        Norms.rmsNorm(h, p.parameter("encoder.final_layer_norm.weight"), config.layerNormEpsilon(), 2));
    hiddenStates.add(h.name());
    last = modules.put("encoder", h);
  }

  /** T5Block of the encoder: self-attention sub-layer, then feed-forward sub-layer, each pre-norm + residual. */
  private SDVariable block(ParameterBinder p, String pre, SDVariable h, SDVariable bias) {
    SDVariable normed = modules.put(pre + "layer.0.layer_norm",
        Norms.rmsNorm(h, p.parameter(pre + "layer.0.layer_norm.weight"), config.layerNormEpsilon(), 2));
    h = modules.put(pre + "layer.0",
        h.add(modules.put(pre + "layer.0.SelfAttention", selfAttention(p, pre + "layer.0.SelfAttention.", normed, bias))));
    normed = modules.put(pre + "layer.1.layer_norm",
        Norms.rmsNorm(h, p.parameter(pre + "layer.1.layer_norm.weight"), config.layerNormEpsilon(), 2));
    return modules.put(pre + "layer.1",
        h.add(modules.put(pre + "layer.1.DenseReluDense", feedForward(p, pre + "layer.1.DenseReluDense.", normed))));
  }

  /** T5Attention (encoder self-attention): no scaling; position bias and padding mask are additive. */
  private SDVariable selfAttention(ParameterBinder p, String pre, SDVariable x, SDVariable bias) {
    int heads = config.numHeads();
    int dKv = config.dKv();
    SDVariable q = Attention.splitHeads(Linear.load(p, pre + "q", false).forward(x, 3), heads, dKv);
    SDVariable k = Attention.splitHeads(Linear.load(p, pre + "k", false).forward(x, 3), heads, dKv);
    SDVariable v = Attention.splitHeads(Linear.load(p, pre + "v", false).forward(x, 3), heads, dKv);
    SDVariable context = Attention.scaledDotProduct(q, k, v, bias, 1.0);
    return Linear.load(p, pre + "o", false).forward(Attention.mergeHeads(context, heads, dKv), 3);
  }

  /** T5DenseActDense ({@code wo(act(wi x))}) or T5DenseGatedActDense ({@code wo(act(wi_0 x) · wi_1 x)}). */
  private SDVariable feedForward(ParameterBinder p, String pre, SDVariable x) {
    SDVariable hidden;
    if (config.isGatedAct()) {
      SDVariable gate = modules.put(pre + "act",
          Activations.apply(config.denseActFn(), Linear.load(p, pre + "wi_0", false).forward(x, 3)));
      hidden = gate.mul(Linear.load(p, pre + "wi_1", false).forward(x, 3));
    } else {
      hidden = modules.put(pre + "act", Activations.apply(config.denseActFn(), Linear.load(p, pre + "wi", false).forward(x, 3)));
    }
    return Linear.load(p, pre + "wo", false).forward(hidden, 3);
  }

  /** {@code compute_bias}: the first block's table [buckets, heads] at the fed buckets → [1, heads, L, L]. */
  private SDVariable positionBias(ParameterBinder p, SDVariable ids) {
    SDVariable buckets = sd.placeHolder(BUCKETS, DataType.INT, -1);
    p.expectShape("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", "relative_attention_num_buckets "
        + config.relativeAttentionNumBuckets() + ", num_heads " + config.numHeads(), config.relativeAttentionNumBuckets(),
        config.numHeads());
    SDVariable table = p.parameter("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
    SDVariable values = sd.gather(table, buckets, 0).permute(1, 0); // [heads, L·L]
    SDVariable l = sd.shape(ids).castTo(DataType.LONG).get(SDIndex.interval(1, 2));
    return values.reshape(sd.concat(0, sd.constant(Nd4j.createFromArray(1L, config.numHeads())), l, l));
  }

  /**
   * HF {@code T5Attention._relative_position_bucket}, bidirectional (encoder), for
   * {@code relative = key position − query position}, in float32 arithmetic as torch.
   */
  public static int relativePositionBucket(long relative, int numBuckets, int maxDistance) {
    int half = numBuckets / 2;
    int bucket = relative > 0 ? half : 0;
    long n = Math.abs(relative);
    int maxExact = half / 2;
    if (n < maxExact) {
      return bucket + (int) n;
    }
    float ratio = (float) n / (float) maxExact;
    float scaled = (float) Math.log(ratio) / (float) Math.log((double) maxDistance / maxExact) * (float) (half - maxExact);
    long large = maxExact + (long) scaled;
    return bucket + (int) Math.min(large, half - 1);
  }

  /** Row-major [L·L] buckets of {@code j − i} for query i and key j. */
  static int[] buckets(int length, int numBuckets, int maxDistance) {
    int[] out = new int[length * length];
    for (int i = 0; i < length; i++) {
      for (int j = 0; j < length; j++) {
        out[i * length + j] = relativePositionBucket(j - i, numBuckets, maxDistance);
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- running

  @Override
  public SameDiff graph() {
    return sd;
  }

  @Override
  public SDVariable tokenStates() {
    return last;
  }

  @Override
  public SDVariable maskInput() {
    return mask;
  }

  @Override
  public int hiddenSize() {
    return config.dModel();
  }

  @Override
  public Vocabulary vocabulary() {
    return vocabulary;
  }

  /** Rows per graph execution at this length (bounded activation memory, see {@link PassPlanner}). */
  @Override
  public int rowsPerPass(int length) {
    return PassPlanner.rowsPerPass(length, config.numHeads(), config.numLayers(), BYTES_PER_SCORE);
  }

  @Override
  public double bytesPerRow(int length) {
    return PassPlanner.bytesPerRow(length, config.numHeads(), config.numLayers(), BYTES_PER_SCORE);
  }

  @Override
  public Map<String, INDArray> feed(TokenInputs in) {
    Map<String, INDArray> feed = new LinkedHashMap<>();
    feed.put(IDS, in.ids());
    feed.put(MASK, in.mask());
    feed.put(BUCKETS, bucketsFor(in.length()));
    return feed;
  }

  private synchronized INDArray bucketsFor(int length) {
    return bucketCache.computeIfAbsent(length, l -> Nd4j.createFromArray(
        buckets(l, config.relativeAttentionNumBuckets(), config.relativeAttentionMaxDistance())));
  }

  /** {@code last_hidden_state} [B, L, d_model] (after the final norm) and the layers+1 {@code hidden_states}. */
  @Override
  public Map<String, Object> forward(INDArray inputIds, INDArray attentionMask) {
    return forward(inputIds, attentionMask, null, List.of());
  }

  /** With the outputs of the HF modules matching {@code capture} (see {@link ModuleOutputs}) after {@code hidden_states}. */
  @Override
  public Map<String, Object> forward(INDArray inputIds, INDArray attentionMask, INDArray tokenTypeIds,
      java.util.Collection<String> capture) {
    if (tokenTypeIds != null) {
      throw new IllegalArgumentException("T5EncoderModel: this model has no token types; token_type_ids cannot be given");
    }
    TokenInputs in = TokenInputs.check(inputIds, attentionMask, vocabulary);
    Map<String, String> captured = modules.select(capture);
    List<String> names = ModuleOutputs.withCaptures(hiddenStates, captured);
    List<INDArray> all = PassPlanner.inChunks(in, rowsPerPass(in.length()), bytesPerRow(in.length()),
        chunk -> Graphs.outputList(sd, feed(chunk), names));
    return ModuleOutputs.encoderResult(all, hiddenStates.size(), captured);
  }

  @Override
  public ModuleOutputs moduleOutputs() {
    return modules;
  }

  @Override
  public List<String> capturableModules() {
    return modules.names();
  }
}
