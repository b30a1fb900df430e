package org.promptrecovery4j.weights.config;

import org.promptrecovery4j.weights.ModelFormatException;

/**
 * {@code BertConfig}, with the defaults of transformers' configuration_bert. Only absolute position
 * embeddings are supported ({@code position_embedding_type} "absolute"); the relative_key variants are refused.
 */
public record BertConfig(
    String modelType,
    String declaredDtype,
    int vocabSize,
    int hiddenSize,
    int numHiddenLayers,
    int numAttentionHeads,
    int intermediateSize,
    String hiddenAct,
    int maxPositionEmbeddings,
    int typeVocabSize,
    double layerNormEps,
    String positionEmbeddingType,
    int padTokenId)
    implements ModelConfig {

  static BertConfig from(ConfigJson j) {
    var f = j.file();
    int hidden = ConfigLimits.check(f, "hidden_size", j.getInt("hidden_size", 768), 1, ConfigLimits.MAX_HIDDEN);
    int heads = ConfigLimits.check(f, "num_attention_heads", j.getInt("num_attention_heads", 12), 1, ConfigLimits.MAX_HEADS);
    ConfigLimits.headSize(f, "hidden_size", hidden, "num_attention_heads", heads);
    String positions = j.getString("position_embedding_type", "absolute");
    if (!positions.equals("absolute")) {
      throw new ModelFormatException(f + ": \"position_embedding_type\" '" + positions
          + "' is not supported (BERT with absolute position embeddings only)");
    }
    return new BertConfig(
        "bert",
        j.declaredDtype(),
        ConfigLimits.check(f, "vocab_size", j.getInt("vocab_size", 30522), 1, ConfigLimits.MAX_VOCAB),
        hidden,
        ConfigLimits.check(f, "num_hidden_layers", j.getInt("num_hidden_layers", 12), 1, ConfigLimits.MAX_LAYERS),
        heads,
        ConfigLimits.check(f, "intermediate_size", j.getInt("intermediate_size", 3072), 1, ConfigLimits.MAX_INTERMEDIATE),
        j.getString("hidden_act", "gelu"),
        ConfigLimits.check(f, "max_position_embeddings", j.getInt("max_position_embeddings", 512), 1,
            ConfigLimits.MAX_POSITIONS),
        ConfigLimits.check(f, "type_vocab_size", j.getInt("type_vocab_size", 2), 0, ConfigLimits.MAX_VOCAB),
        ConfigLimits.checkPositive(f, "layer_norm_eps", j.getDouble("layer_norm_eps", 1e-12), true),
        positions,
        j.getInt("pad_token_id", 0));
  }

  public int headDim() {
    return hiddenSize / numAttentionHeads;
  }
}
