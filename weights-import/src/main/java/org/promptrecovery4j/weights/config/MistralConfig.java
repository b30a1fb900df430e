package org.promptrecovery4j.weights.config;

import java.util.List;

/**
 * {@code MistralConfig}, and {@code LlamaConfig} where it matches (the same architecture without a
 * sliding window), with the defaults of the respective transformers configuration class.
 */
public record MistralConfig(
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
    Integer slidingWindow,
    boolean attentionBias,
    boolean mlpBias,
    List<Integer> bosTokenId,
    List<Integer> eosTokenId)
    implements ModelConfig {

  static MistralConfig from(ConfigJson j) {
    boolean llama = "llama".equals(j.getString("model_type", "mistral"));
    int hidden = j.getInt("hidden_size", 4096);
    int heads = j.getInt("num_attention_heads", 32);
    String ropeType = j.root().path("rope_parameters").path("rope_type").asText("default");
    if (j.has("rope_scaling") || !ropeType.equals("default")) {
      throw new org.promptrecovery4j.weights.ModelFormatException(j.file()
          + ": RoPE scaling (rope_scaling / rope_parameters.rope_type other than 'default') is not supported");
    }
    return new MistralConfig(
        llama ? "llama" : "mistral",
        j.declaredDtype(),
        j.getInt("vocab_size", 32000),
        hidden,
        j.getInt("intermediate_size", llama ? 11008 : 14336),
        j.getInt("num_hidden_layers", 32),
        heads,
        j.getInt("num_key_value_heads", llama ? heads : 8),
        j.getInt("head_dim", hidden / heads),
        j.getString("hidden_act", "silu"),
        j.getInt("max_position_embeddings", llama ? 2048 : 4096 * 32),
        j.getDouble("rms_norm_eps", 1e-6),
        j.getBoolean("tie_word_embeddings", false),
        j.getRopeParameter("rope_theta", 10000.0),
        llama ? null : (j.root().has("sliding_window") ? j.getIntOrNull("sliding_window") : Integer.valueOf(4096)),
        j.getBoolean("attention_bias", false),
        j.getBoolean("mlp_bias", false),
        j.has("bos_token_id") ? j.getIntList("bos_token_id") : List.of(1),
        j.has("eos_token_id") ? j.getIntList("eos_token_id") : List.of(2));
  }
}
