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
    return new T5Config(
        "t5",
        j.declaredDtype(),
        j.getInt("vocab_size", 32128),
        j.getInt("d_model", 512),
        j.getInt("d_kv", 64),
        j.getInt("d_ff", 2048),
        j.getInt("num_layers", 6),
        j.getInt("num_heads", 8),
        j.getInt("relative_attention_num_buckets", 32),
        j.getInt("relative_attention_max_distance", 128),
        j.getDouble("layer_norm_epsilon", 1e-6),
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
