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
    var f = j.file();
    int hidden = ConfigLimits.check(f, "hidden_size", j.getInt("hidden_size", 4096), 1, ConfigLimits.MAX_HIDDEN);
    int heads = j.getInt("num_attention_heads", 32);
    int kvHeads = j.getInt("num_key_value_heads", llama ? heads : 8);
    ConfigLimits.checkHeads(f, "num_attention_heads", heads, "num_key_value_heads", kvHeads);
    int headDim = j.has("head_dim") ? j.getInt("head_dim", 0)
        : ConfigLimits.headSize(f, "hidden_size", hidden, "num_attention_heads", heads);
    ConfigLimits.check(f, "head_dim", headDim, 2, ConfigLimits.MAX_HEAD_DIM);
    ConfigLimits.require(f, headDim % 2 == 0, "\"head_dim\" " + headDim + " is odd (rotary embeddings need an even head size)");
    Integer slidingWindow = llama ? null
        : (j.root().has("sliding_window") ? j.getIntOrNull("sliding_window") : Integer.valueOf(4096));
    if (slidingWindow != null) {
      ConfigLimits.check(f, "sliding_window", slidingWindow, 1, Integer.MAX_VALUE);
    }
    String ropeType = j.root().path("rope_parameters").path("rope_type").asText("default");
    if (j.has("rope_scaling") || !ropeType.equals("default")) {
      throw new org.promptrecovery4j.weights.ModelFormatException(j.file()
          + ": RoPE scaling (rope_scaling / rope_parameters.rope_type other than 'default') is not supported");
    }
    return new MistralConfig(
        llama ? "llama" : "mistral",
        j.declaredDtype(),
        ConfigLimits.check(f, "vocab_size", j.getInt("vocab_size", 32000), 1, ConfigLimits.MAX_VOCAB),
        hidden,
        ConfigLimits.check(f, "intermediate_size", j.getInt("intermediate_size", llama ? 11008 : 14336), 1,
            ConfigLimits.MAX_INTERMEDIATE),
        ConfigLimits.check(f, "num_hidden_layers", j.getInt("num_hidden_layers", 32), 1, ConfigLimits.MAX_LAYERS),
        heads,
        kvHeads,
        headDim,
        j.getString("hidden_act", "silu"),
        ConfigLimits.check(f, "max_position_embeddings", j.getInt("max_position_embeddings", llama ? 2048 : 4096 * 32),
            1, ConfigLimits.MAX_POSITIONS),
        ConfigLimits.checkPositive(f, "rms_norm_eps", j.getDouble("rms_norm_eps", 1e-6), true),
        j.getBoolean("tie_word_embeddings", false),
        ConfigLimits.checkPositive(f, "rope_theta", j.getRopeParameter("rope_theta", 10000.0), false),
        slidingWindow,
        j.getBoolean("attention_bias", false),
        j.getBoolean("mlp_bias", false),
        j.has("bos_token_id") ? j.getIntList("bos_token_id") : List.of(1),
        j.has("eos_token_id") ? j.getIntList("eos_token_id") : List.of(2));
  }
}
