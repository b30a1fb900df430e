package org.promptrecovery4j.models.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.ForwardModel;
import org.promptrecovery4j.models.deberta.DebertaV2Model;
import org.promptrecovery4j.models.nn.LinearPrecision;
import org.promptrecovery4j.models.t5.T5EncoderModel;
import org.promptrecovery4j.weights.config.ConfigJson;
import org.promptrecovery4j.weights.config.DebertaV2Config;
import org.promptrecovery4j.weights.config.ModelConfig;
import org.promptrecovery4j.weights.config.T5Config;

/**
 * Forward-pass timing of the encoders at their real sizes with random weights: microsoft/deberta-v3-large
 * and the T5 encoder of sentence-t5-base (the pooling/Dense/Normalize after it are negligible).
 * {@code tools/reference/bench_encoders.py} times the same shapes in PyTorch. Either model can be built with its
 * linear layers in bf16 ({@link LinearPrecision#BF16}) to time that path against float32.
 */
public final class EncoderBench {

  /** microsoft/deberta-v3-large config.json. */
  public static final String DEBERTA_V3_LARGE = """
      {"model_type": "deberta-v2", "hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16,
       "intermediate_size": 4096, "hidden_act": "gelu", "vocab_size": 128100, "max_position_embeddings": 512,
       "type_vocab_size": 0, "layer_norm_eps": 1e-7, "relative_attention": true, "max_relative_positions": -1,
       "position_buckets": 256, "norm_rel_ebd": "layer_norm", "share_att_key": true, "pos_att_type": "p2c|c2p",
       "position_biased_input": false, "pad_token_id": 0}""";

  /** sentence-transformers/sentence-t5-base config.json (the T5 v1.0 base encoder). */
  public static final String SENTENCE_T5_BASE = """
      {"model_type": "t5", "d_model": 768, "d_kv": 64, "d_ff": 3072, "num_layers": 12, "num_heads": 12,
       "vocab_size": 32128, "relative_attention_num_buckets": 32, "relative_attention_max_distance": 128,
       "layer_norm_epsilon": 1e-6, "feed_forward_proj": "relu"}""";

  private EncoderBench() {}

  /** Timing of one model at one shape. */
  public record Result(String model, int batch, int length, double medianMs, double minMs, int iterations) {}

  /** The config of one of the JSON texts above, parsed in memory (no file). */
  public static ModelConfig config(String json) {
    return ModelConfig.parse(ConfigJson.parse(Path.of("built-in bench config.json"), json));
  }

  public static DebertaV2Model randomDebertaV3Large() throws IOException {
    return randomDebertaV3Large(name -> false);
  }

  /** DeBERTa-v3-large's shapes with random frozen weights, its linear layers computed in {@code precision}. */
  public static DebertaV2Model randomDebertaV3Large(LinearPrecision precision) throws IOException {
    return DebertaV2Model.create((DebertaV2Config) config(DEBERTA_V3_LARGE), randomDebertaV3LargeWeights(), name -> false,
        precision);
  }

  /** DeBERTa-v3-large's shapes with random weights, those {@code trainable} names (HF names) as variables. */
  public static DebertaV2Model randomDebertaV3Large(java.util.function.Predicate<String> trainable) throws IOException {
    return DebertaV2Model.create((DebertaV2Config) config(DEBERTA_V3_LARGE), randomDebertaV3LargeWeights(), trainable);
  }

  /** Random weights of DeBERTa-v3-large's names and shapes (those of HF's checkpoint without the MLM heads). */
  public static RandomWeights randomDebertaV3LargeWeights() {
    return randomDebertaWeights((DebertaV2Config) config(DEBERTA_V3_LARGE));
  }

  /** Random weights of the names and shapes a DeBERTa-v3 of config {@code c} has (without the MLM heads). */
  public static RandomWeights randomDebertaWeights(DebertaV2Config c) {
    long h = c.hiddenSize();
    RandomWeights w = new RandomWeights()
        .put("embeddings.word_embeddings.weight", c.vocabSize(), h)
        .put("embeddings.LayerNorm.weight", h).put("embeddings.LayerNorm.bias", h)
        .put("encoder.rel_embeddings.weight", 2L * c.posEbdSize(), h)
        .put("encoder.LayerNorm.weight", h).put("encoder.LayerNorm.bias", h);
    for (int i = 0; i < c.numHiddenLayers(); i++) {
      String p = "encoder.layer." + i + ".";
      for (String proj : new String[] {"query_proj", "key_proj", "value_proj"}) {
        w.put(p + "attention.self." + proj + ".weight", h, h).put(p + "attention.self." + proj + ".bias", h);
      }
      w.put(p + "attention.output.dense.weight", h, h).put(p + "attention.output.dense.bias", h)
          .put(p + "attention.output.LayerNorm.weight", h).put(p + "attention.output.LayerNorm.bias", h)
          .put(p + "intermediate.dense.weight", c.intermediateSize(), h).put(p + "intermediate.dense.bias", c.intermediateSize())
          .put(p + "output.dense.weight", h, c.intermediateSize()).put(p + "output.dense.bias", h)
          .put(p + "output.LayerNorm.weight", h).put(p + "output.LayerNorm.bias", h);
    }
    return w;
  }

  public static T5EncoderModel randomSentenceT5Base() throws IOException {
    return randomSentenceT5Base(LinearPrecision.FLOAT32);
  }

  /** sentence-t5-base's T5 encoder with random weights, its linear layers computed in {@code precision}. */
  public static T5EncoderModel randomSentenceT5Base(LinearPrecision precision) throws IOException {
    T5Config c = (T5Config) config(SENTENCE_T5_BASE);
    long d = c.dModel();
    long inner = c.innerDim();
    RandomWeights w = new RandomWeights()
        .put("shared.weight", c.vocabSize(), d)
        .put("encoder.final_layer_norm.weight", d)
        .put("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", c.relativeAttentionNumBuckets(), c.numHeads());
    for (int i = 0; i < c.numLayers(); i++) {
      String p = "encoder.block." + i + ".layer.";
      w.put(p + "0.SelfAttention.q.weight", inner, d).put(p + "0.SelfAttention.k.weight", inner, d)
          .put(p + "0.SelfAttention.v.weight", inner, d).put(p + "0.SelfAttention.o.weight", d, inner)
          .put(p + "0.layer_norm.weight", d).put(p + "1.layer_norm.weight", d)
          .put(p + "1.DenseReluDense.wi.weight", c.dFf(), d).put(p + "1.DenseReluDense.wo.weight", d, c.dFf());
    }
    return T5EncoderModel.create(c, w, precision);
  }

  /** Median and minimum wall time of {@code iterations} forward passes after {@code warmup} untimed ones. */
  public static Result time(String name, ForwardModel model, int batch, int length, int warmup, int iterations) {
    Nd4j.getRandom().setSeed(17);
    INDArray ids = Nd4j.rand(DataType.FLOAT, batch, length).muli(998).addi(2).castTo(DataType.LONG);
    INDArray mask = Nd4j.ones(DataType.LONG, batch, length);
    for (int i = 0; i < warmup; i++) {
      model.forward(ids, mask);
    }
    double[] ms = new double[iterations];
    for (int i = 0; i < iterations; i++) {
      long t0 = System.nanoTime();
      model.forward(ids, mask);
      ms[i] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(ms);
    double median = iterations % 2 == 1 ? ms[iterations / 2] : (ms[iterations / 2 - 1] + ms[iterations / 2]) / 2;
    return new Result(name, batch, length, median, ms[0], iterations);
  }
}
