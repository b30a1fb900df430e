package org.promptrecovery4j.models.bert;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.ForwardModel;
import org.promptrecovery4j.models.GraphEncoder;
import org.promptrecovery4j.models.PassPlanner;
import org.promptrecovery4j.models.TokenInputs;
import org.promptrecovery4j.models.Vocabulary;
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
import org.promptrecovery4j.weights.config.BertConfig;

/**
 * The BERT encoder ({@code BertModel} of HF {@code modeling_bert.py}) in SameDiff: word + absolute
 * position + token-type ({@code token_type_ids}, all 0 unless given) embeddings → LayerNorm → N × (self-attention → dense + residual →
 * LayerNorm, intermediate act → dense + residual → LayerNorm), post-LayerNorm as HF, returning every hidden
 * state as HF does with {@code output_hidden_states=True}. The pooler is not part of the outputs.
 *
 * <p>Weights may carry the {@code bert.} prefix (task heads); tensors the encoder does not use are ignored.
 * One graph serves every batch size and length up to {@code max_position_embeddings}.
 */
public final class BertModel implements ForwardModel, GraphEncoder {

  /** Live activation bytes per attention-score element and layer in one pass (estimate, see PassPlanner). */
  private static final int BYTES_PER_SCORE = 24;

  private static final String IDS = "input_ids";
  private static final String MASK = "attention_mask";
  private static final String POSITION_IDS = "position_ids";
  private static final String TOKEN_TYPE_IDS = "token_type_ids";

  private final BertConfig config;
  private final SameDiff sd;
  private final SDVariable mask;
  private final List<String> hiddenStates = new ArrayList<>();
  private SDVariable last;
  private Vocabulary vocabulary;
  private ModuleOutputs modules;

  private BertModel(BertConfig config, WeightSource weights, LinearPrecision precision) {
    this.config = config;
    this.sd = Graphs.newGraph();
    SDVariable ids = sd.placeHolder(IDS, DataType.INT, -1, -1);
    this.mask = sd.placeHolder(MASK, DataType.FLOAT, -1, -1);
    build(new ParameterBinder(sd, weights, name -> false, precision), prefixOf(weights), ids);
  }

  /** Loads a HF BERT folder (safetensors or pytorch_model.bin; any dtype, computed in float32). */
  public static BertModel load(Path dir) throws IOException {
    try (ModelFolder folder = ModelFolder.open(dir)) {
      return load(folder);
    }
  }

  public static BertModel load(ModelFolder folder) throws IOException {
    return load(folder, LinearPrecision.FLOAT32);
  }

  /**
   * Loads a HF folder with its linear layers computed in {@code precision} ({@link LinearPrecision#BF16}: bf16
   * weights and products; the default is float32, which the metric's exactness needs).
   */
  public static BertModel load(Path dir, LinearPrecision precision) throws IOException {
    try (ModelFolder folder = ModelFolder.open(dir)) {
      return load(folder, precision);
    }
  }

  public static BertModel load(ModelFolder folder, LinearPrecision precision) throws IOException {
    if (!(folder.config() instanceof BertConfig c)) {
      throw new ModelFormatException(folder.dir() + ": not a bert model (model_type " + folder.config().modelType() + ")");
    }
    return new BertModel(c, folder.weights(), precision);
  }

  /** Builds the model from a config and any weight source (e.g. random weights for benchmarks). */
  public static BertModel create(BertConfig config, WeightSource weights) {
    return new BertModel(config, weights, LinearPrecision.FLOAT32);
  }

  /** {@link #create(BertConfig, WeightSource)} with the linear layers computed in {@code precision}. */
  public static BertModel create(BertConfig config, WeightSource weights, LinearPrecision precision) {
    return new BertModel(config, weights, precision);
  }

  public BertConfig config() {
    return config;
  }

  private static String prefixOf(WeightSource w) {
    return !w.contains("embeddings.word_embeddings.weight") && w.contains("bert.embeddings.word_embeddings.weight")
        ? "bert." : "";
  }

  // ---------------------------------------------------------------- graph

  private void build(ParameterBinder p, String prefix, SDVariable ids) {
    checkShapes(p, prefix);
    p.modulePrefix("bert."); // HF task models (ForSequenceClassification, …) hold the base model under "bert"
    modules = p.outputs();
    SDVariable h = modules.put(prefix + "embeddings", embeddings(p, prefix + "embeddings.", ids));
    hiddenStates.add(h.name());
    SDVariable maskBias = Attention.paddingMask(mask);
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      h = modules.put(prefix + "encoder.layer." + i, layer(p, prefix + "encoder.layer." + i + ".", h, maskBias));
      hiddenStates.add(h.name());
    }
    last = modules.put(prefix + "encoder", h);
  }

  /** Config-vs-tensor checks before anything is loaded. */
  private void checkShapes(ParameterBinder p, String prefix) {
    int hidden = config.hiddenSize();
    int inter = config.intermediateSize();
    String e = prefix + "embeddings.";
    String why = "hidden_size " + hidden;
    p.expectShape(e + "word_embeddings.weight", why, -1, hidden);
    p.expectShape(e + "position_embeddings.weight", why, -1, hidden);
    p.expectShape(e + "token_type_embeddings.weight", why, -1, hidden);
    p.expectShape(e + "LayerNorm.weight", why, hidden);
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      String l = prefix + "encoder.layer." + i + ".";
      for (String w : new String[] {"query", "key", "value"}) {
        p.expectShape(l + "attention.self." + w + ".weight", why, hidden, hidden);
      }
      p.expectShape(l + "attention.output.dense.weight", why, hidden, hidden);
      String whyInter = "hidden_size " + hidden + ", intermediate_size " + inter;
      p.expectShape(l + "intermediate.dense.weight", whyInter, inter, hidden);
      p.expectShape(l + "output.dense.weight", whyInter, hidden, inter);
    }
  }

  /** BertEmbeddings: word + position (0..L−1) + token type → LayerNorm. */
  private SDVariable embeddings(ParameterBinder p, String pre, SDVariable ids) {
    int hidden = config.hiddenSize();
    SDVariable words = p.parameter(pre + "word_embeddings.weight");
    vocabulary = Vocabulary.of("BERT", pre + "word_embeddings.weight", words.getArr().size(0), config.vocabSize());
    SDVariable flat = sd.gather(words, ids.reshape(-1), 0);
    SDVariable x = modules.put(pre + "word_embeddings", flat.reshape(sd.concat(0, sd.shape(ids).castTo(DataType.LONG),
        sd.constant(Nd4j.createFromArray((long) hidden)))));
    SDVariable positions = sd.placeHolder(POSITION_IDS, DataType.INT, -1);
    SDVariable table = p.parameter(pre + "position_embeddings.weight");
    long rows = table.getShape()[0];
    if (rows < config.maxPositionEmbeddings()) {
      throw new ModelFormatException(p.weights().location() + ": " + pre + "position_embeddings.weight has " + rows
          + " rows, config.json (max_position_embeddings) says " + config.maxPositionEmbeddings());
    }
    x = x.add(sd.gather(table, positions, 0));
    if (config.typeVocabSize() > 0) {
      SDVariable types = sd.placeHolder(TOKEN_TYPE_IDS, DataType.INT, -1, -1);
      SDVariable typeTable = p.parameter(pre + "token_type_embeddings.weight");
      long typeRows = typeTable.getShape()[0];
      if (typeRows < config.typeVocabSize()) {
        throw new ModelFormatException(p.weights().location() + ": " + pre + "token_type_embeddings.weight has " + typeRows
            + " rows, config.json (type_vocab_size) says " + config.typeVocabSize());
      }
      x = x.add(modules.put(pre + "token_type_embeddings", sd.gather(typeTable, types.reshape(-1), 0).reshape(sd.shape(x))));
    }
    return modules.put(pre + "LayerNorm",
        Norms.layerNorm(x, p.parameter(pre + "LayerNorm.weight"), p.parameter(pre + "LayerNorm.bias"), config.layerNormEps(), 2));
  }

  /** BertLayer: self-attention → BertSelfOutput, BertIntermediate → BertOutput. */
  private SDVariable layer(ParameterBinder p, String pre, SDVariable h, SDVariable maskBias) {
    int heads = config.numAttentionHeads();
    int d = config.headDim();
    String a = pre + "attention.self.";
    SDVariable q = Attention.splitHeads(Linear.load(p, a + "query", true).forward(h, 3), heads, d);
    SDVariable k = Attention.splitHeads(Linear.load(p, a + "key", true).forward(h, 3), heads, d);
    SDVariable v = Attention.splitHeads(Linear.load(p, a + "value", true).forward(h, 3), heads, d);
    SDVariable context = modules.put(pre + "attention.self",
        Attention.mergeHeads(Attention.scaledDotProduct(q, k, v, maskBias, 1.0 / Math.sqrt(d)), heads, d));
    SDVariable attnOut = modules.put(pre + "attention.output", residualNorm(p, pre + "attention.output.", context, h));
    modules.put(pre + "attention", attnOut);
    SDVariable inter = modules.put(pre + "intermediate.intermediate_act_fn",
        Activations.apply(config.hiddenAct(), Linear.load(p, pre + "intermediate.dense", true).forward(attnOut, 3)));
    modules.put(pre + "intermediate", inter);
    return modules.put(pre + "output", residualNorm(p, pre + "output.", inter, attnOut));
  }

  /** BertSelfOutput / BertOutput: {@code LayerNorm(dense(x) + residual)}. */
  private SDVariable residualNorm(ParameterBinder p, String pre, SDVariable x, SDVariable residual) {
    SDVariable y = Linear.load(p, pre + "dense", true).forward(x, 3).add(residual);
    return modules.put(pre + "LayerNorm",
        Norms.layerNorm(y, p.parameter(pre + "LayerNorm.weight"), p.parameter(pre + "LayerNorm.bias"), config.layerNormEps(), 2));
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
    return config.hiddenSize();
  }

  /** The ids the model embeds: the rows of its loaded {@code word_embeddings}. */
  @Override
  public Vocabulary vocabulary() {
    return vocabulary;
  }

  @Override
  public int typeVocabSize() {
    return config.typeVocabSize();
  }

  @Override
  public int rowsPerPass(int length) {
    return PassPlanner.rowsPerPass(length, config.numAttentionHeads(), config.numHiddenLayers(), BYTES_PER_SCORE);
  }

  @Override
  public double bytesPerRow(int length) {
    return PassPlanner.bytesPerRow(length, config.numAttentionHeads(), config.numHiddenLayers(), BYTES_PER_SCORE);
  }

  @Override
  public Map<String, INDArray> feed(TokenInputs in) {
    int length = in.length();
    if (length > config.maxPositionEmbeddings()) {
      throw new IllegalArgumentException("sequence length " + length + " exceeds max_position_embeddings "
          + config.maxPositionEmbeddings() + " of this model (it uses absolute positions): truncate the input");
    }
    Map<String, INDArray> feed = new LinkedHashMap<>();
    feed.put(IDS, in.ids());
    feed.put(MASK, in.mask());
    feed.put(POSITION_IDS, Nd4j.arange(length).castTo(DataType.INT));
    if (config.typeVocabSize() > 0) {
      feed.put(TOKEN_TYPE_IDS, in.tokenTypes() != null ? in.tokenTypes() : Nd4j.zeros(DataType.INT, in.batch(), length));
    }
    return feed;
  }

  /** {@code last_hidden_state} [B, L, hidden] and the layers+1 {@code hidden_states}. */
  @Override
  public Map<String, Object> forward(INDArray inputIds, INDArray attentionMask) {
    return forward(inputIds, attentionMask, null);
  }

  /** {@link #forward(INDArray, INDArray)} with {@code token_type_ids} [B, L] in [0, type_vocab_size) (null = all 0). */
  @Override
  public Map<String, Object> forward(INDArray inputIds, INDArray attentionMask, INDArray tokenTypeIds) {
    return forward(inputIds, attentionMask, tokenTypeIds, List.of());
  }

  /** With the outputs of the HF modules matching {@code capture} (see {@link ModuleOutputs}) after {@code hidden_states}. */
  @Override
  public Map<String, Object> forward(INDArray inputIds, INDArray attentionMask, INDArray tokenTypeIds,
      java.util.Collection<String> capture) {
    TokenInputs in = TokenInputs.check(inputIds, attentionMask, vocabulary)
        .withTokenTypes(tokenTypeIds, config.typeVocabSize(), "BERT");
    if (in.length() > config.maxPositionEmbeddings()) {
      throw new IllegalArgumentException("sequence length " + in.length() + " exceeds max_position_embeddings "
          + config.maxPositionEmbeddings() + " of this model (it uses absolute positions): truncate the input");
    }
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
