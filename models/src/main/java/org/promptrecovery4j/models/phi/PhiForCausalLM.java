package org.promptrecovery4j.models.phi;

import java.io.IOException;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.promptrecovery4j.models.generation.CausalLM;
import org.promptrecovery4j.models.generation.DecoderOptions;
import org.promptrecovery4j.models.generation.Projection;
import org.promptrecovery4j.weights.ModelFolder;
import org.promptrecovery4j.weights.WeightSource;
import org.promptrecovery4j.weights.config.PhiConfig;

/**
 * HF {@code PhiForCausalLM} (modeling_phi.py, phi-1/1.5/2): one input LayerNorm feeding attention and
 * MLP in parallel, partial rotary ({@code rotary dim = int(head_dim × partial_rotary_factor)}), gelu_new
 * MLP, biases everywhere including {@code lm_head}, untied embeddings.
 */
public final class PhiForCausalLM extends CausalLM {

  private final PhiConfig config;
  private final SDVariable embedTokens;
  private final SDVariable finalNormWeight;
  private final SDVariable finalNormBias;
  private final Projection lmHead;

  public static PhiForCausalLM load(ModelFolder folder, DecoderOptions options) throws IOException {
    return new PhiForCausalLM((PhiConfig) folder.config(), folder.weights(), options);
  }

  public PhiForCausalLM(PhiConfig config, WeightSource weights, DecoderOptions options) {
    super(dims(config), weights, options);
    if (config.qkLayernorm()) {
      throw new UnsupportedOperationException("phi with qk_layernorm=true is not supported yet");
    }
    this.config = config;
    this.embedTokens = embeddingTable("model.embed_tokens.weight");
    this.finalNormWeight = this.weights.vector("model.final_layernorm.weight", 0);
    this.finalNormBias = this.weights.vector("model.final_layernorm.bias", 0);
    this.lmHead = Projection.load(this.weights, "lm_head", weights.contains("lm_head.bias"));
    build();
  }

  static Dims dims(PhiConfig c) {
    return new Dims("phi", c.vocabSize(), c.hiddenSize(), c.numHiddenLayers(), c.numAttentionHeads(),
        c.numKeyValueHeads(), c.headDim(), c.rotaryDim(), c.ropeTheta(), c.maxPositionEmbeddings(), null,
        c.eosTokenId());
  }

  public PhiConfig config() {
    return config;
  }

  @Override
  protected SDVariable embed(SDVariable ids) {
    SDVariable e = sd.gather(embedTokens, ids, 0);
    return module("model.embed_tokens", e.dataType() == DataType.FLOAT ? e : e.castTo(DataType.FLOAT));
  }

  /** PhiDecoderLayer: {@code attn(ln(x)) + mlp(ln(x)) + x}. */
  @Override
  protected SDVariable decoderLayer(int i, SDVariable x) {
    String p = "model.layers." + i + ".";
    SDVariable h = module(p + "input_layernorm", layerNorm(x, weights.vector(p + "input_layernorm.weight", 0),
        weights.vector(p + "input_layernorm.bias", 0), config.layerNormEps()));
    SDVariable attn = module(p + "self_attn", selfAttention(i, h));
    SDVariable ff = module(p + "mlp", mlp(i, h));
    return attn.add(ff).add(x);
  }

  /** PhiAttention: fused q/k/v with biases, partial rotary, cache, dense. */
  private SDVariable selfAttention(int i, SDVariable h) {
    String p = "model.layers." + i + ".self_attn.";
    Projection qkv = Projection.load(weights, p + "qkv_proj", List.of(p + "q_proj", p + "k_proj", p + "v_proj"), true);
    Projection dense = Projection.load(weights, p + "dense", true);
    return dense.forward(attention(i, qkv.forward(h)));
  }

  /** PhiMLP: {@code fc2(act(fc1(x)))}. */
  private SDVariable mlp(int i, SDVariable h) {
    String p = "model.layers." + i + ".mlp.";
    Projection fc1 = Projection.load(weights, p + "fc1", true);
    Projection fc2 = Projection.load(weights, p + "fc2", true);
    return fc2.forward(module(p + "activation_fn", activation(config.hiddenAct(), fc1.forward(h))));
  }

  @Override
  protected SDVariable finalNorm(SDVariable x) {
    return module("model.final_layernorm", layerNorm(x, finalNormWeight, finalNormBias, config.layerNormEps()));
  }

  @Override
  protected SDVariable lmHead(SDVariable x) {
    return lmHead.forward(x);
  }
}
