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
    var f = j.file();
    int heads = j.getInt("num_attention_heads", 16);
    int kvHeads = j.getInt("num_key_value_heads", 16);
    ConfigLimits.checkHeads(f, "num_attention_heads", heads, "num_key_value_heads", kvHeads);
    int headDim = ConfigLimits.check(f, "head_dim", j.getInt("head_dim", 256), 2, ConfigLimits.MAX_HEAD_DIM);
    ConfigLimits.require(f, headDim % 2 == 0, "\"head_dim\" " + headDim + " is odd (rotary embeddings need an even head size)");
    return new GemmaConfig(
        "gemma",
        j.declaredDtype(),
        ConfigLimits.check(f, "vocab_size", j.getInt("vocab_size", 256000), 1, ConfigLimits.MAX_VOCAB),
        ConfigLimits.check(f, "hidden_size", j.getInt("hidden_size", 3072), 1, ConfigLimits.MAX_HIDDEN),
        ConfigLimits.check(f, "intermediate_size", j.getInt("intermediate_size", 24576), 1, ConfigLimits.MAX_INTERMEDIATE),
        ConfigLimits.check(f, "num_hidden_layers", j.getInt("num_hidden_layers", 28), 1, ConfigLimits.MAX_LAYERS),
        heads,
        kvHeads,
        headDim,
        act != null ? act : j.getString("hidden_act", "gelu_pytorch_tanh"),
        ConfigLimits.check(f, "max_position_embeddings", j.getInt("max_position_embeddings", 8192), 1,
            ConfigLimits.MAX_POSITIONS),
        ConfigLimits.checkPositive(f, "rms_norm_eps", j.getDouble("rms_norm_eps", 1e-6), true),
        j.getBoolean("tie_word_embeddings", true),
        ConfigLimits.checkPositive(f, "rope_theta", j.getRopeParameter("rope_theta", 10000.0), false),
        j.has("bos_token_id") ? j.getIntList("bos_token_id") : List.of(2),
        j.has("eos_token_id") ? j.getIntList("eos_token_id") : List.of(1),
        j.getInt("pad_token_id", 0));
  }
}
