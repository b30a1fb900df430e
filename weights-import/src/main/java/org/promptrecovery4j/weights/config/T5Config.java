package org.promptrecovery4j.weights.config;

import org.promptrecovery4j.weights.ModelFormatException;

/** {@code T5Config} (T5 v1.0 and v1.1), with the defaults of transformers' configuration_t5. */
public record T5Config(
    String modelType,
    String declaredDtype,
    int vocabSize,
    int dModel,
    int dKv,
    int dFf,
    int numLayers,
    int numHeads,
    int relativeAttentionNumBuckets,
    int relativeAttentionMaxDistance,
    double layerNormEpsilon,
    String feedForwardProj,
    String denseActFn,
    boolean isGatedAct,
    int padTokenId,
    int eosTokenId)
    implements ModelConfig {

  static T5Config from(ConfigJson j) {
    String proj = j.getString("feed_forward_proj", "relu");
    // HF: "gated-gelu" → act gelu_new, gated; "{gated-}act" otherwise
    String[] parts = proj.split("-");
    boolean gated = parts[0].equals("gated");
    if (parts.length > 2 || (parts.length == 2 && !gated)) {
      throw new ModelFormatException(j.file() + ": feed_forward_proj '" + proj
          + "' is not of the form {ACT} or gated-{ACT}, e.g. relu or gated-gelu");
    }
    String act = parts[parts.length - 1];
    if (proj.equals("gated-gelu")) {
      act = "gelu_new";
    }
    var f = j.file();
    int dKv = ConfigLimits.check(f, "d_kv", j.getInt("d_kv", 64), 1, ConfigLimits.MAX_HEAD_DIM);
    int heads = ConfigLimits.check(f, "num_heads", j.getInt("num_heads", 8), 1, ConfigLimits.MAX_HEADS);
    ConfigLimits.require(f, heads * dKv <= ConfigLimits.MAX_HIDDEN, "\"num_heads\" " + heads + " * \"d_kv\" " + dKv
        + " is above the supported inner size " + ConfigLimits.MAX_HIDDEN);
    return new T5Config(
        "t5",
        j.declaredDtype(),
        ConfigLimits.check(f, "vocab_size", j.getInt("vocab_size", 32128), 1, ConfigLimits.MAX_VOCAB),
        ConfigLimits.check(f, "d_model", j.getInt("d_model", 512), 1, ConfigLimits.MAX_HIDDEN),
        dKv,
        ConfigLimits.check(f, "d_ff", j.getInt("d_ff", 2048), 1, ConfigLimits.MAX_INTERMEDIATE),
        ConfigLimits.check(f, "num_layers", j.getInt("num_layers", 6), 1, ConfigLimits.MAX_LAYERS),
        heads,
        ConfigLimits.check(f, "relative_attention_num_buckets", j.getInt("relative_attention_num_buckets", 32), 2,
            ConfigLimits.MAX_POSITIONS),
        ConfigLimits.check(f, "relative_attention_max_distance", j.getInt("relative_attention_max_distance", 128), 1,
            ConfigLimits.MAX_POSITIONS),
        ConfigLimits.checkPositive(f, "layer_norm_epsilon", j.getDouble("layer_norm_epsilon", 1e-6), true),
        proj,
        act,
        gated,
        j.getInt("pad_token_id", 0),
        j.getInt("eos_token_id", 1));
  }

  public int innerDim() {
    return numHeads * dKv;
  }
}
