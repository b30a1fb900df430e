package org.promptrecovery4j.weights.config;

import java.util.List;

/** {@code PhiConfig} (phi-1, phi-1.5, phi-2), with the defaults of transformers' configuration_phi. */
public record PhiConfig(
    String modelType,
    String declaredDtype,
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int numHiddenLayers,
    int numAttentionHeads,
    int numKeyValueHeads,
    String hiddenAct,
    int maxPositionEmbeddings,
    double layerNormEps,
    boolean tieWordEmbeddings,
    double ropeTheta,
    double partialRotaryFactor,
    boolean qkLayernorm,
    List<Integer> bosTokenId,
    List<Integer> eosTokenId)
    implements ModelConfig {

  static PhiConfig from(ConfigJson j) {
    int heads = j.getInt("num_attention_heads", 32);
    return new PhiConfig(
        "phi",
        j.declaredDtype(),
        j.getInt("vocab_size", 51200),
        j.getInt("hidden_size", 2048),
        j.getInt("intermediate_size", 8192),
        j.getInt("num_hidden_layers", 24),
        heads,
        j.getInt("num_key_value_heads", heads),
        j.getString("hidden_act", "gelu_new"),
        j.getInt("max_position_embeddings", 2048),
        j.getDouble("layer_norm_eps", 1e-5),
        j.getBoolean("tie_word_embeddings", false),
        j.getRopeParameter("rope_theta", 10000.0),
        j.getRopeParameter("partial_rotary_factor", 0.5),
        j.getBoolean("qk_layernorm", false),
        j.has("bos_token_id") ? j.getIntList("bos_token_id") : List.of(1),
        j.has("eos_token_id") ? j.getIntList("eos_token_id") : List.of(2));
  }

  public int headDim() {
    return hiddenSize / numAttentionHeads;
  }

  /** HF: {@code int(head_dim * partial_rotary_factor)}. */
  public int rotaryDim() {
    return (int) (headDim() * partialRotaryFactor);
  }
}
