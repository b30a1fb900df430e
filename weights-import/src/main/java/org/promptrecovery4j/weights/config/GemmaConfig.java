package org.promptrecovery4j.weights.config;

import java.util.List;

/** {@code GemmaConfig} (Gemma 1.x), with the defaults of transformers' configuration_gemma. */
public record GemmaConfig(
    String modelType,
    String declaredDtype,
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int numHiddenLayers,
    int numAttentionHeads,
    int numKeyValueHeads,
    int headDim,
    String hiddenAct,
    int maxPositionEmbeddings,
    double rmsNormEps,
    boolean tieWordEmbeddings,
    double ropeTheta,
    List<Integer> bosTokenId,
    List<Integer> eosTokenId,
    int padTokenId)
    implements ModelConfig {

  static GemmaConfig from(ConfigJson j) {
    // HF Gemma: hidden_activation overrides hidden_act when set (both mean the tanh gelu in practice)
    String act = j.getString("hidden_activation", null);
    return new GemmaConfig(
        "gemma",
        j.declaredDtype(),
        j.getInt("vocab_size", 256000),
        j.getInt("hidden_size", 3072),
        j.getInt("intermediate_size", 24576),
        j.getInt("num_hidden_layers", 28),
        j.getInt("num_attention_heads", 16),
        j.getInt("num_key_value_heads", 16),
        j.getInt("head_dim", 256),
        act != null ? act : j.getString("hidden_act", "gelu_pytorch_tanh"),
        j.getInt("max_position_embeddings", 8192),
        j.getDouble("rms_norm_eps", 1e-6),
        j.getBoolean("tie_word_embeddings", true),
        j.getRopeParameter("rope_theta", 10000.0),
        j.has("bos_token_id") ? j.getIntList("bos_token_id") : List.of(2),
        j.has("eos_token_id") ? j.getIntList("eos_token_id") : List.of(1),
        j.getInt("pad_token_id", 0));
  }
}
