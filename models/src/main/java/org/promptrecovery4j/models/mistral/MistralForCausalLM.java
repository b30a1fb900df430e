package org.promptrecovery4j.models.mistral;

import java.io.IOException;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.promptrecovery4j.models.generation.CausalLM;
import org.promptrecovery4j.models.generation.DecoderOptions;
import org.promptrecovery4j.models.generation.Projection;
import org.promptrecovery4j.weights.ModelFolder;
import org.promptrecovery4j.weights.WeightSource;
import org.promptrecovery4j.weights.config.MistralConfig;

/**
 * HF {@code MistralForCausalLM} (modeling_mistral.py), and {@code LlamaForCausalLM} through the same
 * config: RMSNorm, RoPE with {@code rope_theta}, grouped-query attention, SwiGLU MLP, optional sliding
 * window, untied (or tied) {@code lm_head}.
 */
public final class MistralForCausalLM extends CausalLM {

  private final MistralConfig config;
  private final SDVariable embedTokens;
  private final SDVariable norm;
  private final SDVariable lmHeadWeight;
  private final Projection lmHead;

  public static MistralForCausalLM load(ModelFolder folder, DecoderOptions options) throws IOException {
    return new MistralForCausalLM((MistralConfig) folder.config(), folder.weights(), options);
  }

  public MistralForCausalLM(MistralConfig config, WeightSource weights, DecoderOptions options) {
    super(dims(config), weights, options);
    this.config = config;
    this.embedTokens = embeddingTable("model.embed_tokens.weight");
    this.norm = this.weights.vector("model.norm.weight", 0);
    boolean tied = config.tieWordEmbeddings() || !weights.contains("lm_head.weight");
    this.lmHead = tied ? null : Projection.load(this.weights, "lm_head", false);
    this.lmHeadWeight = tied ? embedTokens : null;
    build();
  }

  static Dims dims(MistralConfig c) {
    return new Dims(c.modelType(), c.vocabSize(), c.hiddenSize(), c.numHiddenLayers(), c.numAttentionHeads(),
        c.numKeyValueHeads(), c.headDim(), c.headDim(), c.ropeTheta(), c.maxPositionEmbeddings(),
        c.slidingWindow(), c.eosTokenId());
  }

  public MistralConfig config() {
    return config;
  }

  @Override
  protected SDVariable embed(SDVariable ids) {
    return module("model.embed_tokens", asFloat(sd.gather(embedTokens, ids, 0)));
  }

  @Override
  protected SDVariable decoderLayer(int i, SDVariable x) {
    String p = "model.layers." + i + ".";
    SDVariable residual = x;
    SDVariable h = module(p + "input_layernorm", rmsNorm(x, p + "input_layernorm.weight"));
    x = residual.add(module(p + "self_attn", selfAttention(i, h)));
    residual = x;
    h = module(p + "post_attention_layernorm", rmsNorm(x, p + "post_attention_layernorm.weight"));
    return residual.add(module(p + "mlp", mlp(i, h)));
  }

  /** MistralAttention: fused q/k/v, rotary, cache, GQA, o_proj. */
  private SDVariable selfAttention(int i, SDVariable h) {
    String p = "model.layers." + i + ".self_attn.";
    Projection qkv = Projection.load(weights, p + "qkv_proj",
        List.of(p + "q_proj", p + "k_proj", p + "v_proj"), config.attentionBias());
    Projection o = Projection.load(weights, p + "o_proj", config.attentionBias());
    return o.forward(attention(i, qkv.forward(h)));
  }

  /** MistralMLP: {@code down(act(gate(x)) * up(x))}, gate and up fused. */
  private SDVariable mlp(int i, SDVariable h) {
    return gatedMlp("model.layers." + i + ".mlp.", h, config.hiddenAct(), config.intermediateSize(), config.mlpBias());
  }

  private SDVariable rmsNorm(SDVariable x, String weight) {
    return rmsNorm(x, weights.vector(weight, 0), config.rmsNormEps());
  }

  @Override
  protected SDVariable finalNorm(SDVariable x) {
    return module("model.norm", rmsNorm(x, norm, config.rmsNormEps()));
  }

  @Override
  protected SDVariable lmHead(SDVariable x) {
    return lmHead != null ? lmHead.forward(x) : weights.product(x, lmHeadWeight);
  }
}
