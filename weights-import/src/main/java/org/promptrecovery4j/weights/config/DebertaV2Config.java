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
    int hidden = j.getInt("hidden_size", 1536);
    return new DebertaV2Config(
        "deberta-v2",
        j.declaredDtype(),
        j.getInt("vocab_size", 128100),
        hidden,
        j.getInt("embedding_size", hidden),
        j.getInt("num_hidden_layers", 24),
        j.getInt("num_attention_heads", 24),
        j.getInt("intermediate_size", 6144),
        j.getString("hidden_act", "gelu"),
        j.getInt("max_position_embeddings", 512),
        j.getInt("type_vocab_size", 0),
        j.getDouble("layer_norm_eps", 1e-7),
        j.getBoolean("relative_attention", false),
        j.getInt("max_relative_positions", -1),
        j.getInt("position_buckets", -1),
        j.getInt("pad_token_id", 0),
        j.getBoolean("position_biased_input", true),
        parseList(j, "pos_att_type"),
        j.getBoolean("share_att_key", false),
        parseList(j, "norm_rel_ebd"),
        j.getInt("conv_kernel_size", 0));
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
