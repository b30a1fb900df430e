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
    var f = j.file();
    int hidden = ConfigLimits.check(f, "hidden_size", j.getInt("hidden_size", 2048), 1, ConfigLimits.MAX_HIDDEN);
    int heads = j.getInt("num_attention_heads", 32);
    int kvHeads = j.getInt("num_key_value_heads", heads);
    ConfigLimits.checkHeads(f, "num_attention_heads", heads, "num_key_value_heads", kvHeads);
    int headDim = ConfigLimits.headSize(f, "hidden_size", hidden, "num_attention_heads", heads);
    double factor = j.getRopeParameter("partial_rotary_factor", 0.5);
    ConfigLimits.require(f, factor > 0 && factor <= 1, "\"partial_rotary_factor\" is " + factor + ", expected (0, 1]");
    int rotaryDim = (int) (headDim * factor);
    ConfigLimits.require(f, rotaryDim >= 2 && rotaryDim % 2 == 0, "the rotary size int(head size " + headDim
        + " * partial_rotary_factor " + factor + ") = " + rotaryDim + " is not a positive even number");
    return new PhiConfig(
        "phi",
        j.declaredDtype(),
        ConfigLimits.check(f, "vocab_size", j.getInt("vocab_size", 51200), 1, ConfigLimits.MAX_VOCAB),
        hidden,
        ConfigLimits.check(f, "intermediate_size", j.getInt("intermediate_size", 8192), 1, ConfigLimits.MAX_INTERMEDIATE),
        ConfigLimits.check(f, "num_hidden_layers", j.getInt("num_hidden_layers", 24), 1, ConfigLimits.MAX_LAYERS),
        heads,
        kvHeads,
        j.getString("hidden_act", "gelu_new"),
        ConfigLimits.check(f, "max_position_embeddings", j.getInt("max_position_embeddings", 2048), 1,
            ConfigLimits.MAX_POSITIONS),
        ConfigLimits.checkPositive(f, "layer_norm_eps", j.getDouble("layer_norm_eps", 1e-5), true),
        j.getBoolean("tie_word_embeddings", false),
        ConfigLimits.checkPositive(f, "rope_theta", j.getRopeParameter("rope_theta", 10000.0), false),
        factor,
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
