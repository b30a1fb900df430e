package org.promptrecovery4j.models.gemma;

import java.io.IOException;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.promptrecovery4j.models.generation.CausalLM;
import org.promptrecovery4j.models.generation.DecoderOptions;
import org.promptrecovery4j.models.generation.Projection;
import org.promptrecovery4j.weights.ModelFolder;
import org.promptrecovery4j.weights.WeightSource;
import org.promptrecovery4j.weights.config.GemmaConfig;

/**
 * HF {@code GemmaForCausalLM} (modeling_gemma.py, Gemma 1.x): RMSNorm with {@code (1 + w)}, embeddings
 * scaled by √hidden, GeGLU MLP (tanh gelu), {@code head_dim} from the config, multi-query attention
 * (2b), {@code lm_head} tied to the embeddings.
 */
public final class GemmaForCausalLM extends CausalLM {

  private final GemmaConfig config;
  private final SDVariable embedTokens;
  private final SDVariable norm;
  private final SDVariable lmHeadWeight;

  public static GemmaForCausalLM load(ModelFolder folder, DecoderOptions options) throws IOException {
    return new GemmaForCausalLM((GemmaConfig) folder.config(), folder.weights(), options);
  }

  public GemmaForCausalLM(GemmaConfig config, WeightSource weights, DecoderOptions options) {
    super(dims(config), weights, options);
    this.config = config;
    this.embedTokens = embeddingTable("model.embed_tokens.weight");
    this.norm = this.weights.vector("model.norm.weight", 1.0);
    this.lmHeadWeight = weights.contains("lm_head.weight") && !config.tieWordEmbeddings()
        ? this.weights.matrix("lm_head.weight", List.of("lm_head.weight")) : embedTokens;
    build();
  }

  static Dims dims(GemmaConfig c) {
    return new Dims("gemma", c.vocabSize(), c.hiddenSize(), c.numHiddenLayers(), c.numAttentionHeads(),
        c.numKeyValueHeads(), c.headDim(), c.headDim(), c.ropeTheta(), c.maxPositionEmbeddings(), null,
        c.eosTokenId());
  }

  public GemmaConfig config() {
    return config;
  }

  /** GemmaModel: embeddings × √hidden (the normalizer in float32, as HF). */
  @Override
  protected SDVariable embed(SDVariable ids) {
    // HF's embed_tokens (GemmaTextScaledWordEmbedding since transformers 5) returns the scaled embeddings
    return module("model.embed_tokens", asFloat(sd.gather(embedTokens, ids, 0)).mul((double) (float) Math.sqrt(config.hiddenSize())));
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

  /** GemmaAttention: fused q/k/v, rotary, cache, multi-/grouped-query, o_proj. */
  private SDVariable selfAttention(int i, SDVariable h) {
    String p = "model.layers." + i + ".self_attn.";
    Projection qkv = Projection.load(weights, p + "qkv_proj", List.of(p + "q_proj", p + "k_proj", p + "v_proj"), false);
    Projection o = Projection.load(weights, p + "o_proj", false);
    return o.forward(attention(i, qkv.forward(h)));
  }

  /** GemmaMLP: {@code down(gelu_tanh(gate(x)) * up(x))}, no biases. */
  private SDVariable mlp(int i, SDVariable h) {
    return gatedMlp("model.layers." + i + ".mlp.", h, config.hiddenAct(), config.intermediateSize(), false);
  }

  /** GemmaRMSNorm: {@code x / rms(x) * (1 + w)}, the {@code 1 + w} folded in at load. */
  private SDVariable rmsNorm(SDVariable x, String weight) {
    return rmsNorm(x, weights.vector(weight, 1.0), config.rmsNormEps());
  }

  @Override
  protected SDVariable finalNorm(SDVariable x) {
    return module("model.norm", rmsNorm(x, norm, config.rmsNormEps()));
  }

  @Override
  protected SDVariable lmHead(SDVariable x) {
    return weights.product(x, lmHeadWeight);
  }
}
