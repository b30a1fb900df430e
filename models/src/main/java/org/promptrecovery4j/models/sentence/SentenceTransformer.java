package org.promptrecovery4j.models.sentence;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.models.TokenInputs;
import org.promptrecovery4j.models.ForwardModel;
import org.promptrecovery4j.models.GraphEncoder;
import org.promptrecovery4j.models.PassPlanner;
import org.promptrecovery4j.models.nn.Graphs;
import org.promptrecovery4j.models.nn.Activations;
import org.promptrecovery4j.models.nn.Linear;
import org.promptrecovery4j.models.nn.ParameterBinder;
import org.promptrecovery4j.models.bert.BertModel;
import org.promptrecovery4j.models.t5.T5EncoderModel;
import org.promptrecovery4j.weights.Checkpoints;
import org.promptrecovery4j.weights.ModelFolder;
import org.promptrecovery4j.weights.ModelFormatException;
import org.promptrecovery4j.weights.WeightSource;
import org.promptrecovery4j.weights.config.BertConfig;
import org.promptrecovery4j.weights.config.T5Config;

/**
 * A sentence-transformers folder ({@code modules.json}): Transformer (the HF model in the root folder;
 * T5 encoder or BERT) → Pooling ({@code 1_Pooling/config.json}) → Dense ({@code 2_Dense}) → Normalize, all in the
 * transformer's SameDiff graph. sentence-t5-base is this pipeline with mean pooling, a 768→768 Dense
 * without bias or activation, and L2 normalisation.
 */
public final class SentenceTransformer implements ForwardModel {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final GraphEncoder encoder;
  private final SDVariable sentence;
  private final int maxSeqLength;
  private final boolean doLowerCase;
  private final List<String> modules = new ArrayList<>();

  /** One entry of {@code modules.json}: the module's class name (last part) and its folder. */
  private record Module(String type, String path) {}

  private SentenceTransformer(Path dir, GraphEncoder encoder, SentenceBertConfig settings) throws IOException {
    this.encoder = encoder;
    this.maxSeqLength = settings.maxSeqLength();
    this.doLowerCase = settings.doLowerCase();
    SameDiff sd = encoder.graph();
    SDVariable x = null;
    for (Module m : modules(dir)) {
      String simple = m.type().substring(m.type().lastIndexOf('.') + 1);
      Path folder = dir.resolve(m.path());
      modules.add(simple);
      switch (simple) {
        case "Transformer" -> x = null; // the encoder below; only a root-folder transformer is supported
        case "Pooling" -> x = Pooling.fromConfig(folder.resolve("config.json")).apply(encoder.tokenStates(), encoder.maskInput());
        case "Dense" -> x = dense(sd, folder, require(x, simple, dir));
        case "Normalize" -> x = normalize(require(x, simple, dir));
        default -> throw new ModelFormatException(dir + ": sentence-transformers module '" + m.type()
            + "' is not supported (supported: Transformer, Pooling, Dense, Normalize)");
      }
      if (simple.equals("Transformer") && !m.path().isEmpty()) {
        throw new ModelFormatException(dir + ": the Transformer module must live in the root folder (path \"\")");
      }
    }
    if (x == null) {
      throw new ModelFormatException(dir + ": modules.json has no Pooling module");
    }
    this.sentence = x;
  }

  /**
   * The modules of {@code modules.json}; a plain HF folder without one gets what sentence-transformers gives it:
   * the transformer and mean pooling, no normalisation.
   */
  private static List<Module> modules(Path dir) throws IOException {
    Path file = dir.resolve("modules.json");
    if (!Files.isRegularFile(file)) {
      System.err.println("note: " + dir + " has no modules.json (not a sentence-transformers folder): mean pooling,"
          + " no normalisation, as sentence-transformers does for a plain HuggingFace model");
      return List.of(new Module("Transformer", ""), new Module("Pooling", "1_Pooling"));
    }
    JsonNode list = JSON.readTree(file.toFile());
    if (list == null || !list.isArray()) {
      throw new ModelFormatException(file + ": expected a JSON list of modules");
    }
    List<Module> out = new ArrayList<>();
    for (JsonNode m : list) {
      out.add(new Module(m.path("type").asText(""), m.path("path").asText("")));
    }
    return out;
  }

  private static SDVariable require(SDVariable x, String module, Path dir) {
    if (x == null) {
      throw new ModelFormatException(dir + ": module " + module + " needs a Pooling module before it");
    }
    return x;
  }

  /**
   * Loads a sentence-transformers folder whose transformer is a T5 encoder (sentence-t5) or BERT (all-MiniLM, bge);
   * a plain HF BERT folder (e.g. an ONNX export: {@code config.json}, {@code model.onnx}, {@code tokenizer.json})
   * gets mean pooling, as sentence-transformers gives it.
   */
  public static SentenceTransformer load(Path dir) throws IOException {
    try (ModelFolder folder = ModelFolder.open(dir)) {
      if (!folder.isSentenceTransformer() && !(folder.config() instanceof BertConfig)) {
        throw new ModelFormatException(dir + ": no modules.json (not a sentence-transformers folder)");
      }
      GraphEncoder encoder;
      if (folder.config() instanceof T5Config) {
        encoder = T5EncoderModel.load(folder);
      } else if (folder.config() instanceof BertConfig) {
        encoder = BertModel.load(folder);
      } else {
        throw new ModelFormatException(dir + ": sentence-transformers with a '" + folder.config().modelType()
            + "' transformer are not supported (t5, bert)");
      }
      return new SentenceTransformer(dir, encoder, SentenceBertConfig.read(dir));
    }
  }

  /** Wraps an already built encoder with the modules of {@code dir} (e.g. random weights in benchmarks). */
  public static SentenceTransformer create(Path dir, GraphEncoder encoder) throws IOException {
    return new SentenceTransformer(dir, encoder, SentenceBertConfig.read(dir));
  }

  /** {@code sentence_bert_config.json}: the truncation length and whether texts are lowercased before tokenizing. */
  private record SentenceBertConfig(int maxSeqLength, boolean doLowerCase) {
    static SentenceBertConfig read(Path dir) throws IOException {
      Path f = dir.resolve("sentence_bert_config.json");
      if (!Files.isRegularFile(f)) {
        return new SentenceBertConfig(-1, false);
      }
      JsonNode c = JSON.readTree(f.toFile());
      if (c == null || !c.isObject()) {
        throw new ModelFormatException(f + ": expected a JSON object");
      }
      JsonNode max = c.path("max_seq_length");
      if (!max.isMissingNode() && !max.isNull() && (!max.canConvertToInt() || max.asInt() < 1)) {
        throw new ModelFormatException(f + ": max_seq_length must be a positive integer, is " + max);
      }
      return new SentenceBertConfig(max.asInt(-1), c.path("do_lower_case").asBoolean(false));
    }
  }

  /** {@code max_seq_length} of {@code sentence_bert_config.json} (-1 if absent): what the tokenizer truncates to. */
  public int maxSeqLength() {
    return maxSeqLength;
  }

  /** {@code do_lower_case} of {@code sentence_bert_config.json}: texts are lowercased before the tokenizer sees them. */
  public boolean doLowerCase() {
    return doLowerCase;
  }

  /** True when the transformer is a T5 encoder: sentence-t5, the model of the competition's metric. */
  public boolean isSentenceT5() {
    return encoder instanceof T5EncoderModel;
  }

  public List<String> modules() {
    return List.copyOf(modules);
  }

  public GraphEncoder encoder() {
    return encoder;
  }

  /** Dense: {@code act(x Wᵀ + b)} with the weights of {@code <folder>/model.safetensors} (or .bin). */
  private static SDVariable dense(SameDiff sd, Path folder, SDVariable x) throws IOException {
    JsonNode c = JSON.readTree(folder.resolve("config.json").toFile());
    boolean bias = c.path("bias").asBoolean(true);
    String act = c.path("activation_function").asText("torch.nn.modules.activation.Tanh");
    // the weights stay open only while they are copied into the graph
    try (WeightSource w = Checkpoints.open(folder)) {
      Linear linear = Linear.load(new ParameterBinder(sd, w), "linear", bias);
      return activation(act, linear.forward(x, 2), folder);
    }
  }

  private static SDVariable activation(String torchName, SDVariable x, Path folder) {
    String simple = torchName.substring(torchName.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
    return switch (simple) {
      case "identity" -> x;
      case "tanh" -> x.getSameDiff().math.tanh(x);
      case "relu" -> Activations.apply("relu", x);
      case "gelu" -> Activations.apply("gelu", x);
      case "sigmoid" -> x.getSameDiff().nn.sigmoid(x);
      default -> throw new ModelFormatException(folder + ": Dense activation '" + torchName
          + "' is not supported (Identity, Tanh, ReLU, GELU, Sigmoid)");
    };
  }

  /** Normalize: {@code x / max(‖x‖₂, 1e-12)} per row, as {@code F.normalize}. */
  private static SDVariable normalize(SDVariable x) {
    SameDiff sd = x.getSameDiff();
    SDVariable norm = sd.math.sqrt(x.mul(x).sum(true, 1));
    return x.div(sd.math.max(norm, sd.constant(1e-12f)));
  }

  /** {@code token_embeddings} [B, L, d] (encoder output after its final norm) and {@code sentence_embedding} [B, D]. */
  @Override
  public Map<String, Object> forward(INDArray inputIds, INDArray attentionMask) {
    return forward(inputIds, attentionMask, null);
  }

  /** With BERT's {@code token_type_ids} (null = all 0; refused by a T5 encoder). */
  @Override
  public Map<String, Object> forward(INDArray inputIds, INDArray attentionMask, INDArray tokenTypeIds) {
    return forward(inputIds, attentionMask, tokenTypeIds, List.of());
  }

  /**
   * With the outputs of the transformer's HF modules matching {@code capture} (names of the HF model inside the
   * folder, e.g. {@code encoder.layer.0}; see {@link org.promptrecovery4j.models.nn.ModuleOutputs}) after them.
   */
  @Override
  public Map<String, Object> forward(INDArray inputIds, INDArray attentionMask, INDArray tokenTypeIds,
      java.util.Collection<String> capture) {
    TokenInputs in = TokenInputs.check(inputIds, attentionMask, encoder.vocabulary())
        .withTokenTypes(tokenTypeIds, encoder.typeVocabSize(), encoder.getClass().getSimpleName());
    String tok = encoder.tokenStates().name();
    Map<String, String> captured = encoder.moduleOutputs().select(capture);
    List<String> names = org.promptrecovery4j.models.nn.ModuleOutputs.withCaptures(List.of(tok, sentence.name()), captured);
    List<INDArray> out = PassPlanner.inChunks(in, encoder.rowsPerPass(in.length()), encoder.bytesPerRow(in.length()), chunk -> {
      Map<String, INDArray> o = Graphs.output(encoder.graph(), encoder.feed(chunk), names.toArray(new String[0]));
      List<INDArray> list = new ArrayList<>();
      for (String n : names) {
        list.add(o.get(n));
      }
      return list;
    });
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("token_embeddings", out.get(0));
    result.put("sentence_embedding", out.get(1));
    org.promptrecovery4j.models.nn.ModuleOutputs.addCaptures(result, captured, out, 2);
    return result;
  }

  @Override
  public List<String> capturableModules() {
    return encoder.moduleOutputs().names();
  }

  /** Sentence embeddings only, [B, D] float32 (what {@code embed} and the metric use). */
  public INDArray embed(INDArray inputIds, INDArray attentionMask) {
    TokenInputs in = TokenInputs.check(inputIds, attentionMask, encoder.vocabulary());
    return PassPlanner.inChunks(in, encoder.rowsPerPass(in.length()), encoder.bytesPerRow(in.length()),
        chunk -> List.of(Graphs.output(encoder.graph(), encoder.feed(chunk), sentence.name()).get(sentence.name()))).get(0)
        .castTo(DataType.FLOAT);
  }
}
