package org.promptrecovery4j.weights.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.promptrecovery4j.weights.ModelFormatException;

/** {@code DebertaV2Config} (DeBERTa-v2 and v3), with the defaults of transformers' configuration_deberta_v2. */
public record DebertaV2Config(
    String modelType,
    String declaredDtype,
    int vocabSize,
    int hiddenSize,
    int embeddingSize,
    int numHiddenLayers,
    int numAttentionHeads,
    int intermediateSize,
    String hiddenAct,
    int maxPositionEmbeddings,
    int typeVocabSize,
    double layerNormEps,
    boolean relativeAttention,
    int maxRelativePositions,
    int positionBuckets,
    int padTokenId,
    boolean positionBiasedInput,
    List<String> posAttType,
    boolean shareAttKey,
    List<String> normRelEbd,
    int convKernelSize)
    implements ModelConfig {

  static DebertaV2Config from(ConfigJson j) {
    var f = j.file();
    int hidden = ConfigLimits.check(f, "hidden_size", j.getInt("hidden_size", 1536), 1, ConfigLimits.MAX_HIDDEN);
    int heads = ConfigLimits.check(f, "num_attention_heads", j.getInt("num_attention_heads", 24), 1, ConfigLimits.MAX_HEADS);
    ConfigLimits.headSize(f, "hidden_size", hidden, "num_attention_heads", heads);
    return new DebertaV2Config(
        "deberta-v2",
        j.declaredDtype(),
        ConfigLimits.check(f, "vocab_size", j.getInt("vocab_size", 128100), 1, ConfigLimits.MAX_VOCAB),
        hidden,
        ConfigLimits.check(f, "embedding_size", j.getInt("embedding_size", hidden), 1, ConfigLimits.MAX_HIDDEN),
        ConfigLimits.check(f, "num_hidden_layers", j.getInt("num_hidden_layers", 24), 1, ConfigLimits.MAX_LAYERS),
        heads,
        ConfigLimits.check(f, "intermediate_size", j.getInt("intermediate_size", 6144), 1, ConfigLimits.MAX_INTERMEDIATE),
        j.getString("hidden_act", "gelu"),
        ConfigLimits.check(f, "max_position_embeddings", j.getInt("max_position_embeddings", 512), 1,
            ConfigLimits.MAX_POSITIONS),
        ConfigLimits.check(f, "type_vocab_size", j.getInt("type_vocab_size", 0), 0, ConfigLimits.MAX_VOCAB),
        ConfigLimits.checkPositive(f, "layer_norm_eps", j.getDouble("layer_norm_eps", 1e-7), true),
        j.getBoolean("relative_attention", false),
        ConfigLimits.check(f, "max_relative_positions", j.getInt("max_relative_positions", -1), Integer.MIN_VALUE,
            ConfigLimits.MAX_POSITIONS),
        ConfigLimits.check(f, "position_buckets", j.getInt("position_buckets", -1), Integer.MIN_VALUE,
            ConfigLimits.MAX_POSITIONS),
        j.getInt("pad_token_id", 0),
        j.getBoolean("position_biased_input", true),
        parseList(j, "pos_att_type"),
        j.getBoolean("share_att_key", false),
        parseList(j, "norm_rel_ebd"),
        ConfigLimits.check(f, "conv_kernel_size", j.getInt("conv_kernel_size", 0), 0, 64));
  }

  /** HF accepts "p2c|c2p", ["p2c", "c2p"] or null; lower-cased as HF does. "none" means none. */
  private static List<String> parseList(ConfigJson j, String key) {
    var n = j.root().get(key);
    List<String> out = new ArrayList<>();
    if (n == null || n.isNull()) {
      return out;
    }
    if (n.isTextual()) {
      for (String s : n.asText().toLowerCase(Locale.ROOT).split("\\|")) {
        s = s.trim();
        if (!s.isEmpty() && !s.equals("none")) {
          out.add(s);
        }
      }
    } else if (n.isArray()) {
      for (var x : n) {
        out.add(x.asText().toLowerCase(Locale.ROOT).trim());
      }
    } else {
      throw new ModelFormatException(j.file() + ": \"" + key + "\" should be a string like \"p2c|c2p\" or a list");
    }
    return List.copyOf(out);
  }

  /** HF: {@code max_relative_positions < 1} means {@code max_position_embeddings}. */
  public int effectiveMaxRelativePositions() {
    return maxRelativePositions < 1 ? maxPositionEmbeddings : maxRelativePositions;
  }

  /** HF: the relative-position embedding table has {@code 2 * position_buckets} rows if bucketed. */
  public int posEbdSize() {
    return positionBuckets > 0 ? positionBuckets : effectiveMaxRelativePositions();
  }

  public boolean usesLayerNormOnRelativeEmbeddings() {
    return normRelEbd.contains("layer_norm");
  }

  public int headDim() {
    return hiddenSize / numAttentionHeads;
  }
}
