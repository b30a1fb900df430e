package org.promptrecovery4j.models.generation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.ForwardModel;
import org.promptrecovery4j.models.TokenInputs;
import org.promptrecovery4j.models.Vocabulary;
import org.promptrecovery4j.models.nn.Graphs;
import org.promptrecovery4j.models.nn.ModuleOutputs;
import org.promptrecovery4j.models.nn.ParameterBinder;
import org.promptrecovery4j.models.nn.Rotary;
import org.promptrecovery4j.weights.WeightSource;

/**
 * What every decoder-only causal LM here shares: ONE SameDiff graph, built at load, that runs a prefill
 * of any length and every single-token decode step, at any batch size, with a KV cache fed in and
 * returned.
 *
 * <p>Graph inputs: {@code input_ids} [B,S] (int64); {@code rope_cos}/{@code rope_sin} [B·S,1,headDim]
 * (see {@link Rotary}); {@code attn_bias} [B,1,G·S,T], an additive mask over the T = P + S cached and new
 * keys, repeated for the G query heads sharing a KV head; {@code past_key_i}/{@code past_value_i}
 * [B,KV,P,headDim] (P may be 0). Outputs: {@code logits} [B,S,V], {@code last_logits} [B,V] (the last
 * position only: what generation needs) and {@code present_key_i}/{@code present_value_i} [B,KV,T,headDim].
 *
 * <p>Hidden states stay 2-D [B·S, hidden] between blocks, so every linear is one plain GEMM. Subclasses
 * mirror their HF modeling file: {@link #embed}, {@link #decoderLayer}, {@link #finalNorm},
 * {@link #lmHead}; attention calls {@link #attention} on the fused q/k/v projection.
 */
public abstract class CausalLM implements ForwardModel {

  /** The shape facts the shared parts need. */
  public record Dims(
      String modelType,
      int vocabSize,
      int hiddenSize,
      int numLayers,
      int numHeads,
      int numKvHeads,
      int headDim,
      int rotaryDim,
      double ropeTheta,
      int maxPositions,
      Integer slidingWindow,
      List<Integer> eosTokenIds) {

    public int groups() {
      return numHeads / numKvHeads;
    }
  }

  /** The result of one run: logits ([B,S,V] or [B,V]) and the cache after it (null if not asked for). */
  public record StepOutput(INDArray logits, KvCache cache) {}

  protected final SameDiff sd;
  protected final Dims dims;
  protected final DecoderWeights weights;
  protected final Rotary rotary;

  private SDVariable ropeCos;
  private SDVariable ropeSin;
  private SDVariable attnBias;
  private SDVariable rotateHalf;
  private SDVariable batchDim;
  private SDVariable seqDim;
  private final SDVariable[] pastKey;
  private final SDVariable[] pastValue;
  private final String[] presentKey;
  private final String[] presentValue;
  private boolean built;
  private Vocabulary vocabulary;
  private final Map<String, SDVariable> shapes = new HashMap<>();

  protected CausalLM(Dims dims, WeightSource source, DecoderOptions options) {
    if (dims.numHeads() % dims.numKvHeads() != 0) {
      throw new IllegalArgumentException(dims.modelType() + ": num_attention_heads " + dims.numHeads()
          + " is not a multiple of num_key_value_heads " + dims.numKvHeads());
    }
    checkShapes(source, dims);
    this.sd = Graphs.newGraph();
    this.dims = dims;
    this.weights = new DecoderWeights(sd, source, options);
    this.rotary = new Rotary(dims.headDim(), dims.rotaryDim(), dims.ropeTheta());
    this.pastKey = new SDVariable[dims.numLayers()];
    this.pastValue = new SDVariable[dims.numLayers()];
    this.presentKey = new String[dims.numLayers()];
    this.presentValue = new String[dims.numLayers()];
  }

  public Dims dims() {
    return dims;
  }

  /**
   * The HF decoder tensors (Llama/Mistral/Gemma/Phi names) against the config's sizes, before anything is
   * loaded: a config whose hidden size, head counts or head size disagree with the checkpoint is a named
   * error naming the tensor, not an ND4J shape error in the graph.
   */
  static void checkShapes(WeightSource w, Dims d) {
    long h = d.hiddenSize();
    long q = (long) d.numHeads() * d.headDim();
    long kv = (long) d.numKvHeads() * d.headDim();
    String hidden = "hidden_size " + h;
    String heads = "hidden_size " + h + ", num_attention_heads " + d.numHeads() + ", num_key_value_heads "
        + d.numKvHeads() + ", head_dim " + d.headDim();
    ParameterBinder.expectShape(w, "model.embed_tokens.weight", hidden, -1, h);
    ParameterBinder.expectShape(w, "lm_head.weight", hidden, -1, h);
    ParameterBinder.expectShape(w, "model.norm.weight", hidden, h);
    ParameterBinder.expectShape(w, "model.final_layernorm.weight", hidden, h);
    for (int i = 0; i < d.numLayers(); i++) {
      String p = "model.layers." + i + ".";
      ParameterBinder.expectShape(w, p + "input_layernorm.weight", hidden, h);
      ParameterBinder.expectShape(w, p + "post_attention_layernorm.weight", hidden, h);
      ParameterBinder.expectShape(w, p + "self_attn.q_proj.weight", heads, q, h);
      ParameterBinder.expectShape(w, p + "self_attn.k_proj.weight", heads, kv, h);
      ParameterBinder.expectShape(w, p + "self_attn.v_proj.weight", heads, kv, h);
      ParameterBinder.expectShape(w, p + "self_attn.o_proj.weight", heads, h, q);
      ParameterBinder.expectShape(w, p + "self_attn.dense.weight", heads, h, q);
      for (String[] mlp : new String[][] {{"mlp.gate_proj.weight", "mlp.down_proj.weight"},
          {"mlp.up_proj.weight", "mlp.down_proj.weight"}, {"mlp.fc1.weight", "mlp.fc2.weight"}}) {
        ParameterBinder.expectShape(w, p + mlp[0], hidden, -1, h);
        long inner = w.contains(p + mlp[0]) ? w.info(p + mlp[0]).shape()[0] : -1;
        ParameterBinder.expectShape(w, p + mlp[1], hidden + ", " + mlp[0] + " of " + inner + " rows", h, inner);
      }
    }
  }

  public Rotary rotary() {
    return rotary;
  }

  public SameDiff graph() {
    return sd;
  }

  /** Bytes of weights the graph holds (float32 or as stored). */
  public long weightBytes() {
    return weights.storedBytes();
  }

  /** The ids the model embeds: the rows of its loaded embedding table (set by {@link #embeddingTable}). */
  public Vocabulary vocabulary() {
    return vocabulary;
  }

  /** The model's name in messages: {@code Mistral}, {@code Llama}, {@code Phi}, {@code Gemma}. */
  public String displayName() {
    String t = dims.modelType();
    return t.isEmpty() ? t : Character.toUpperCase(t.charAt(0)) + t.substring(1);
  }

  // ------------------------------------------------------------------------------------------ the parts

  /**
   * The token embedding table {@code name} in its stored form; its rows are the model's {@link #vocabulary},
   * what every id fed to the model is checked against.
   */
  protected final SDVariable embeddingTable(String name) {
    SDVariable table = weights.table(name);
    vocabulary = Vocabulary.of(displayName(), name, table.getArr().size(0), dims.vocabSize());
    return table;
  }

  /** Token ids [N] (int64) → embeddings [N, hidden] (float). */
  protected abstract SDVariable embed(SDVariable flatIds);

  /** One decoder layer on [N, hidden]. */
  protected abstract SDVariable decoderLayer(int layer, SDVariable hidden);

  protected abstract SDVariable finalNorm(SDVariable hidden);

  /** [M, hidden] → [M, vocab]. */
  protected abstract SDVariable lmHead(SDVariable hidden);

  /** Builds the graph; subclasses call this at the end of their constructor. */
  protected final void build() {
    int kv = dims.numKvHeads();
    int hd = dims.headDim();
    SDVariable inputIds = sd.placeHolder("input_ids", DataType.LONG, -1, -1);
    ropeCos = sd.placeHolder("rope_cos", DataType.FLOAT, -1, 1, hd);
    ropeSin = sd.placeHolder("rope_sin", DataType.FLOAT, -1, 1, hd);
    attnBias = sd.placeHolder("attn_bias", DataType.FLOAT, -1, 1, -1, -1);
    rotateHalf = sd.constant("rotate_half", rotary.rotateHalfMatrix());
    SDVariable shape = sd.shape(inputIds).castTo(DataType.LONG);
    batchDim = shape.get(SDIndex.interval(0, 1));
    seqDim = shape.get(SDIndex.interval(1, 2));
    weights.outputs().tokenShape(shape);
    for (int i = 0; i < dims.numLayers(); i++) {
      pastKey[i] = sd.placeHolder("past_key_" + i, DataType.FLOAT, -1, kv, -1, hd);
      pastValue[i] = sd.placeHolder("past_value_" + i, DataType.FLOAT, -1, kv, -1, hd);
    }
    SDVariable x = embed(inputIds.reshape(-1));
    for (int i = 0; i < dims.numLayers(); i++) {
      x = module("model.layers." + i, decoderLayer(i, x));
    }
    SDVariable normed = module("model", finalNorm(x)); // the base model's last_hidden_state
    module("lm_head", lmHead(normed)).reshape(shapeOf(batchDim, seqDim, dims.vocabSize())).rename("logits");
    SDVariable last = x.reshape(shapeOf(batchDim, seqDim, dims.hiddenSize()))
        .get(SDIndex.all(), SDIndex.point(-1), SDIndex.all());
    lmHead(finalNorm(last)).rename("last_logits");
    built = true;
  }

  /**
   * A shape vector from dynamic [1]-long parts and fixed sizes, made once per distinct list: every layer
   * reshapes to the same few shapes, and each concat is an op per run (ND4J's ~0.7 ms at a decode step; block copies
   * in Java, {@link org.promptrecovery4j.models.nn.ConcatOp}, where they run).
   */
  private SDVariable shapeOf(Object... parts) {
    StringBuilder key = new StringBuilder();
    for (Object p : parts) {
      key.append(p instanceof SDVariable v ? "$" + v.name() : p.toString()).append(',');
    }
    return shapes.computeIfAbsent(key.toString(), k -> newShape(parts));
  }

  private SDVariable newShape(Object... parts) {
    SDVariable[] vs = new SDVariable[parts.length];
    for (int i = 0; i < parts.length; i++) {
      vs[i] = parts[i] instanceof SDVariable v ? v
          : sd.constant(Nd4j.createFromArray(((Number) parts[i]).longValue()));
    }
    return javaOps() ? org.promptrecovery4j.models.nn.ConcatOp.apply(0, vs) : sd.concat(0, vs);
  }

  /**
   * Registers {@code hidden} ([B·S, F]) as the output of HF module {@code name} (see {@link ModuleOutputs}: what
   * {@code forward --capture} can ask for); returns it. The first registration of a name counts.
   */
  protected final SDVariable module(String name, SDVariable hidden) {
    return weights.outputs().putTokens(name, hidden);
  }

  /** The HF module names this model can capture, in model order. */
  @Override
  public List<String> capturableModules() {
    return weights.outputs().names();
  }

  /** {@code v} as float32 (embedding tables kept as stored are bf16/f16). */
  protected static SDVariable asFloat(SDVariable v) {
    return v.dataType() == org.nd4j.linalg.api.buffer.DataType.FLOAT ? v
        : v.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
  }

  /**
   * RMSNorm over the last axis of {@code x [N, F]} ({@link org.promptrecovery4j.models.nn.Norms#rmsNorm}): one op computed
   * in Java where the graph uses those ({@link org.promptrecovery4j.models.nn.NormOp}), else from ND4J's ops.
   */
  protected SDVariable rmsNorm(SDVariable x, SDVariable weight, double eps) {
    return javaOps() && weight.dataType() == DataType.FLOAT
        ? org.promptrecovery4j.models.nn.NormOp.rms(x, weight, eps)
        : org.promptrecovery4j.models.nn.Norms.rmsNorm(x, weight, eps, 1);
  }

  /** LayerNorm over the last axis of {@code x [N, F]} ({@link org.promptrecovery4j.models.nn.Norms#layerNorm}), as {@link #rmsNorm}. */
  protected SDVariable layerNorm(SDVariable x, SDVariable weight, SDVariable bias, double eps) {
    return javaOps() && weight.dataType() == DataType.FLOAT && bias.dataType() == DataType.FLOAT
        ? org.promptrecovery4j.models.nn.NormOp.layer(x, weight, bias, eps)
        : org.promptrecovery4j.models.nn.Norms.layerNorm(x, weight, bias, eps, 1);
  }

  /**
   * The HF activation {@code name} of {@code x}: one oneDNN op where the graph uses the ops computed in Java and oneDNN
   * has it ({@link org.promptrecovery4j.models.nn.ActivationOp}), else built from ND4J's ops
   * ({@link org.promptrecovery4j.models.nn.Activations}).
   */
  protected SDVariable activation(String name, SDVariable x) {
    return javaOps() && org.promptrecovery4j.models.nn.OneDnn.loaded()
        && org.promptrecovery4j.models.nn.OneDnn.activation(name) != null
        ? org.promptrecovery4j.models.nn.ActivationOp.apply(name, x)
        : org.promptrecovery4j.models.nn.Activations.apply(name, x);
  }

  /**
   * The gated MLP of Llama, Mistral and Gemma: {@code down(act(gate(x)) * up(x))} ({@code <prefix>gate_proj},
   * {@code <prefix>up_proj}, {@code <prefix>down_proj}). Where the graph uses the ops computed in Java (inference, its
   * products packed for oneDNN 3.3) gate and up are two products, and where all three weights are packed plain linears
   * the whole MLP is one op ({@link org.promptrecovery4j.models.nn.PackedGatedMlpOp}: the activation and the product
   * are post-ops of the gate and up products; the separate ops stay in the graph for captures of {@code gate_proj},
   * {@code act_fn} and the others, and run only when asked for). Otherwise one fused GEMM whose two halves are sliced
   * out (each slice a copy: 50 ms of a 1.3 s bf16 prefill of 512 tokens on Mistral-7B shapes ×4, per-op listener).
   */
  protected SDVariable gatedMlp(String prefix, SDVariable h, String act, int intermediateSize, boolean bias) {
    SDVariable gate;
    SDVariable up;
    Projection gateProj = null;
    Projection upProj = null;
    if (javaOps()) {
      gateProj = Projection.load(weights, prefix + "gate_proj", bias);
      upProj = Projection.load(weights, prefix + "up_proj", bias);
      gate = gateProj.forward(h);
      up = upProj.forward(h);
    } else {
      Projection gateUp = Projection.load(weights, prefix + "gate_up_proj",
          java.util.List.of(prefix + "gate_proj", prefix + "up_proj"), bias);
      SDVariable gu = gateUp.forward(h);
      gate = gu.get(SDIndex.all(), SDIndex.interval(0, intermediateSize));
      up = gu.get(SDIndex.all(), SDIndex.interval(intermediateSize, 2 * intermediateSize));
    }
    Projection down = Projection.load(weights, prefix + "down_proj", bias);
    SDVariable out = down.forward(module(prefix + "act_fn",
        org.promptrecovery4j.models.nn.Activations.apply(act, gate)).mul(up));
    SDVariable fused = gateProj == null ? null : packedGatedMlp(h, act, gateProj, upProj, down);
    return fused != null ? fused : out;
  }

  /**
   * The gated MLP as one {@link org.promptrecovery4j.models.nn.PackedGatedMlpOp} where its three weights are packed
   * plain linears of one type, oneDNN has the activation and {@link org.promptrecovery4j.models.nn.OneDnn#fusesGatedMlp()};
   * null otherwise.
   */
  private static SDVariable packedGatedMlp(SDVariable h, String act, Projection... gateUpDown) {
    if (!org.promptrecovery4j.models.nn.OneDnn.fusesGatedMlp()
        || org.promptrecovery4j.models.nn.OneDnn.activation(act) == null) {
      return null;
    }
    SDVariable[] variables = new SDVariable[3];
    org.promptrecovery4j.models.nn.OneDnn.PackedWeight[] packed = new org.promptrecovery4j.models.nn.OneDnn.PackedWeight[3];
    for (int i = 0; i < 3; i++) {
      Projection.Packed p = gateUpDown[i].packed();
      if (p == null || (i > 0 && p.weight().bf16() != packed[0].bf16())) {
        return null;
      }
      variables[i] = p.variable();
      packed[i] = p.weight();
    }
    return org.promptrecovery4j.models.nn.PackedGatedMlpOp.apply(h, variables, packed, act);
  }

  /**
   * Self-attention on the fused projection {@code qkv} [N, (H + 2·KV)·headDim] (q heads, then k, then v):
   * rotary on q and k together, the layer's KV cache extended, grouped-query attention without
   * repeating k/v (the G query heads of a KV head are stacked along the query axis), scale
   * {@code headDim^-0.5}. Returns [N, H·headDim], before the output projection.
   */
  protected SDVariable attention(int layer, SDVariable qkv) {
    int h = dims.numHeads();
    int kv = dims.numKvHeads();
    int g = dims.groups();
    int hd = dims.headDim();
    SDVariable q;
    SDVariable k;
    SDVariable v;
    if (javaOps()) { // each in one pass (HeadsOp), the same values
      SDVariable bs = shapeOf(batchDim, seqDim);
      int r = rotary.rotaryDim();
      q = org.promptrecovery4j.models.nn.HeadsOp.apply(qkv, bs, ropeCos, ropeSin, 0, h, g, hd, r);
      k = org.promptrecovery4j.models.nn.HeadsOp.apply(qkv, bs, ropeCos, ropeSin, h, kv, 1, hd, r);
      v = org.promptrecovery4j.models.nn.HeadsOp.apply(qkv, bs, ropeCos, ropeSin, h + kv, kv, 1, hd, 0);
    } else {
      SDVariable heads = qkv.reshape(-1, h + 2 * kv, hd);
      SDVariable qk = applyRotary(heads.get(SDIndex.all(), SDIndex.interval(0, h + kv), SDIndex.all()), h + kv);
      q = qk.get(SDIndex.all(), SDIndex.interval(0, h), SDIndex.all())
          .reshape(shapeOf(batchDim, seqDim, kv, g, hd)).permute(0, 2, 3, 1, 4)
          .reshape(shapeOf(batchDim, kv, -1, hd));
      k = qk.get(SDIndex.all(), SDIndex.interval(h, h + kv), SDIndex.all())
          .reshape(shapeOf(batchDim, seqDim, kv, hd)).permute(0, 2, 1, 3);
      v = heads.get(SDIndex.all(), SDIndex.interval(h + kv, h + 2 * kv), SDIndex.all())
          .reshape(shapeOf(batchDim, seqDim, kv, hd)).permute(0, 2, 1, 3);
    }
    SDVariable keys = extendCache("present_key_" + layer, pastKey[layer], k);
    SDVariable values = extendCache("present_value_" + layer, pastValue[layer], v);
    presentKey[layer] = keys.name();
    presentValue[layer] = values.name();
    SDVariable context; // [B, KV, G·S, hd]
    if (javaOps() && org.promptrecovery4j.models.nn.OneDnn.loaded()) {
      context = org.promptrecovery4j.models.nn.OneDnnAttentionOp.apply(q, keys, values, attnBias, 1.0 / Math.sqrt(hd));
    } else {
      SDVariable scores = sd.mmul(q, keys, false, true, false).mul(1.0 / Math.sqrt(hd)).add(attnBias);
      context = sd.mmul(sd.nn.softmax(scores, 3), values, false, false, false);
    }
    return context.reshape(shapeOf(batchDim, kv, g, seqDim, hd)).permute(0, 3, 1, 2, 4).reshape(-1, h * hd);
  }

  /**
   * The layer's cache {@code [B, KV, P, hd]} extended by the step's {@code [B, KV, S, hd]} along the key axis, named
   * {@code name}: block copies in Java where they run ({@link org.promptrecovery4j.models.nn.ConcatOp}) and the graph
   * is not for training, else ND4J's {@code concat}.
   */
  private SDVariable extendCache(String name, SDVariable past, SDVariable step) {
    if (javaOps()) {
      return org.promptrecovery4j.models.nn.ConcatOp.apply(2, past, step).rename(name);
    }
    return sd.concat(name, 2, past, step);
  }

  /** Whether this graph uses ops computed in Java ({@link org.promptrecovery4j.models.nn.JvmOps}): not for training, and where they run. */
  private boolean javaOps() {
    return !weights.options().differentiable() && org.promptrecovery4j.models.nn.ConcatOp.available();
  }

  /** {@code x·cos + (x R)·sin} on [N, heads, headDim]. */
  private SDVariable applyRotary(SDVariable x, int numHeads) {
    SDVariable rotated = sd.mmul(x.reshape(-1, dims.headDim()), rotateHalf).reshape(-1, numHeads, dims.headDim());
    return x.mul(ropeCos).add(rotated.mul(ropeSin));
  }

  // ------------------------------------------------------------------------------------------ running

  /**
   * Runs the graph on [B,S] ids at the given positions ([B,S]) with an additive bias [B,1,G·S,T] over
   * the cache's P keys and the S new ones. {@code lastOnly}: logits of the last position only ([B,V]).
   * {@code cache} may be null (P = 0); the returned cache holds the T keys if {@code keepCache}.
   */
  public StepOutput run(INDArray ids, int[][] positions, INDArray bias, KvCache cache, boolean lastOnly, boolean keepCache) {
    List<String> outputs = new ArrayList<>();
    String logitsName = lastOnly ? "last_logits" : "logits";
    outputs.add(logitsName);
    if (keepCache) {
      outputs.addAll(List.of(presentKey));
      outputs.addAll(List.of(presentValue));
    }
    Map<String, INDArray> out = execute(ids, positions, bias, cache, outputs);
    KvCache next = null;
    if (keepCache) {
      INDArray[] k = new INDArray[dims.numLayers()];
      INDArray[] v = new INDArray[dims.numLayers()];
      for (int i = 0; i < k.length; i++) {
        k[i] = out.get(presentKey[i]);
        v[i] = out.get(presentValue[i]);
      }
      next = new KvCache(k, v);
    }
    return new StepOutput(out.get(logitsName), next);
  }

  /** One execution of the graph on checked positions, asking for {@code outputs} (graph variable names). */
  private Map<String, INDArray> execute(INDArray ids, int[][] positions, INDArray bias, KvCache cache, List<String> outputs) {
    if (!built) {
      throw new IllegalStateException("graph not built");
    }
    TokenInputs.checkIds(ids, vocabulary); // [B,S] ids (a decode step: B), cheap next to a step
    int b = (int) ids.size(0);
    int s = (int) ids.size(1);
    int[] flat = new int[b * s];
    for (int i = 0; i < b; i++) {
      for (int t = 0; t < s; t++) {
        int p = positions[i][t];
        if (p >= dims.maxPositions()) {
          throw new IllegalArgumentException("position " + p + " is beyond the model's context of "
              + dims.maxPositions() + " tokens (max_position_embeddings)");
        }
        flat[i * s + t] = p;
      }
    }
    Map<String, INDArray> feed = feed(ids, flat, bias, cache);
    session();
    Map<String, INDArray> out = sd.output(feed, outputs.toArray(String[]::new));
    collectIfGrown();
    // free what this call made at once (see KvCache#close)
    feed.get("rope_cos").close();
    feed.get("rope_sin").close();
    if (feed.get("input_ids") != ids) {
      feed.get("input_ids").close();
    }
    if (cache == null && feed.get("past_key_0").closeable()) {
      feed.get("past_key_0").close();
    }
    return out;
  }

  /**
   * The placeholder values of one pass: ids [B,S] (as int64), rotary tables for the flat positions [B·S], the
   * additive bias [B,1,G·S,T], and the cache's keys and values (empty when {@code cache} is null). What
   * {@link #run} feeds; training adds its own placeholders (targets) to it.
   */
  public Map<String, INDArray> feed(INDArray ids, int[] flatPositions, INDArray bias, KvCache cache) {
    int b = (int) ids.size(0);
    INDArray[] cs = rotary.cosSin(flatPositions);
    Map<String, INDArray> feed = new HashMap<>();
    feed.put("input_ids", ids.dataType() == DataType.LONG ? ids : ids.castTo(DataType.LONG));
    feed.put("rope_cos", cs[0]);
    feed.put("rope_sin", cs[1]);
    feed.put("attn_bias", bias);
    INDArray empty = cache == null ? KvCache.empty(b, dims) : null;
    for (int i = 0; i < dims.numLayers(); i++) {
      feed.put("past_key_" + i, cache == null ? empty : cache.keys(i));
      feed.put("past_value_" + i, cache == null ? empty : cache.values(i));
    }
    return feed;
  }

  /**
   * A GC when the process holds more than the weights, the session's array cache and a quarter of the
   * weights (at least 1 GiB) besides: the M2.1 inference session leaves some op outputs unreleased (phi-2's
   * graph most: biases, LayerNorm, gelu_new, partial rotary), and those are freed only when their Java
   * wrappers are collected (phi-2 shapes, weights cast per use, no GC: anonymous RSS grew ~0.6 GiB every
   * 10 s of decoding, to 14 GiB for 5.2 GiB of weights). One GC costs tens of milliseconds and fires only
   * past that line; docs/performance.md has RSS over 30-minute generations with it.
   */
  private void collectIfGrown() {
    long limit = weights.storedBytes() + arrayCacheBytes() + Math.max(1L << 30, weights.storedBytes() / 4);
    if (org.bytedeco.javacpp.Pointer.physicalBytes() > limit) {
      System.gc();
    }
  }

  /**
   * Bytes of freed intermediate arrays the graph's session may keep for reuse ({@code -Dpr4j.arrayCacheBytes},
   * default 1 GiB); a model whose weights are kept as stored gets none unless the property is set (see
   * {@link #arrayCacheBytes()}).
   */
  public static final long ARRAY_CACHE_BYTES = Graphs.ARRAY_CACHE_BYTES;

  /**
   * The array cache of this model's inference session. With weights kept as stored, none: the per-use
   * float copies of the weights go through the session's array cache, and with a cache (1 GiB) they
   * were not freed when used but only when the JVM collected them (Mistral-7B shapes, 4 layers: anonymous
   * RSS grew ~2 GiB a decode step, to 11 GiB, and fell back at each GC); without one each copy is closed
   * as soon as its matrix product is done (RSS flat at weights + 0.25 GiB).
   */
  public long arrayCacheBytes() {
    String set = System.getProperty("pr4j.arrayCacheBytes");
    if (set != null) {
      return Long.parseLong(set.trim());
    }
    return weights.castsPerUse() ? 0 : ARRAY_CACHE_BYTES;
  }

  /**
   * This thread's inference session, with its array cache capped: SameDiff's default keeps up to a
   * quarter of the machine's memory of freed arrays, and decode steps (a new key length each step) fill
   * it with arrays that are never reused (measured: 13 GiB peak RSS for 2 GiB of weights).
   */
  private void session() {
    Graphs.useArrayCache(sd, arrayCacheBytes());
  }

  /**
   * HF's {@code model(input_ids, attention_mask).logits}: positions 0..L-1 for every row (as HF does
   * without position ids), causal attention over non-padding keys (and the sliding window if any).
   */
  @Override
  public Map<String, Object> forward(INDArray inputIds, INDArray attentionMask) {
    return forward(inputIds, attentionMask, null, List.of());
  }

  /**
   * {@link #forward(INDArray, INDArray)} and the outputs of the HF modules matching {@code capture} (see
   * {@link ModuleOutputs}), [B, S, ...] each, after {@code logits}, in model order.
   */
  @Override
  public Map<String, Object> forward(INDArray inputIds, INDArray attentionMask, INDArray tokenTypeIds,
      java.util.Collection<String> capture) {
    if (tokenTypeIds != null) {
      throw new IllegalArgumentException(displayName() + ": this model has no token types; token_type_ids cannot be given");
    }
    TokenInputs in = TokenInputs.check(inputIds, attentionMask, vocabulary);
    Map<String, String> captured = weights.outputs().select(capture);
    List<String> outputs = new ArrayList<>(List.of("logits"));
    outputs.addAll(captured.values());
    Map<String, INDArray> out = execute(in.ids(), positions(in), causalBias(in), null, outputs);
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("logits", out.get("logits"));
    captured.forEach((module, variable) -> result.put(module, out.get(variable)));
    return result;
  }

  /**
   * The placeholder values of HF's {@code model(input_ids, attention_mask)} on checked inputs: positions
   * 0..L-1 for every row, causal attention over non-padding keys. For training passes.
   */
  public Map<String, INDArray> fullSequenceFeed(TokenInputs in) {
    int[][] pos = positions(in);
    int[] flat = new int[in.batch() * in.length()];
    for (int i = 0; i < pos.length; i++) {
      System.arraycopy(pos[i], 0, flat, i * in.length(), in.length());
    }
    return feed(in.ids(), flat, causalBias(in), null);
  }

  private static int[][] positions(TokenInputs in) {
    int[][] positions = new int[in.batch()][in.length()];
    for (int[] row : positions) {
      for (int t = 0; t < row.length; t++) {
        row[t] = t;
      }
    }
    return positions;
  }

  private INDArray causalBias(TokenInputs in) {
    int b = in.batch();
    int l = in.length();
    float[] mask = in.mask().data().asFloat();
    boolean[][] valid = new boolean[b][l];
    for (int i = 0; i < b; i++) {
      for (int t = 0; t < l; t++) {
        valid[i][t] = mask[i * l + t] != 0;
      }
    }
    return AttentionMasks.causal(valid, 0, l, dims.groups(), dims.slidingWindow());
  }

}
