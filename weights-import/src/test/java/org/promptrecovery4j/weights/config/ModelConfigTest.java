package org.promptrecovery4j.weights.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.weights.ModelFormatException;

class ModelConfigTest {

  @TempDir Path tmp;

  private ModelConfig parse(String json) throws IOException {
    Path p = tmp.resolve("config.json");
    Files.writeString(p, json);
    return ModelConfig.read(tmp);
  }

  @Test
  void debertaPosAttTypeAsStringOrListAndHfDefaults() throws IOException {
    var a = (DebertaV2Config) parse("{\"model_type\":\"deberta-v2\",\"pos_att_type\":\"p2c|c2p\",\"relative_attention\":true,"
        + "\"position_buckets\":256,\"norm_rel_ebd\":\"layer_norm\",\"share_att_key\":true,\"hidden_size\":1024,\"num_attention_heads\":16}");
    var b = (DebertaV2Config) parse("{\"model_type\":\"deberta-v2\",\"pos_att_type\":[\"P2C\",\"c2p\"]}");
    assertThat(a.posAttType()).containsExactly("p2c", "c2p");
    assertThat(b.posAttType()).containsExactly("p2c", "c2p");
    assertThat(a.usesLayerNormOnRelativeEmbeddings()).isTrue();
    assertThat(a.posEbdSize()).isEqualTo(256);
    assertThat(a.headDim()).isEqualTo(64);
    // missing keys take HF's defaults (DebertaV2Config())
    assertThat(b.vocabSize()).isEqualTo(128100);
    assertThat(b.layerNormEps()).isEqualTo(1e-7);
    assertThat(b.maxRelativePositions()).isEqualTo(-1);
    assertThat(b.effectiveMaxRelativePositions()).isEqualTo(512);
    assertThat(b.positionBiasedInput()).isTrue();
    assertThat(b.typeVocabSize()).isZero();
    assertThat(b.embeddingSize()).isEqualTo(b.hiddenSize());
    var none = (DebertaV2Config) parse("{\"model_type\":\"deberta-v2\",\"pos_att_type\":null,\"norm_rel_ebd\":\"none\"}");
    assertThat(none.posAttType()).isEmpty();
    assertThat(none.usesLayerNormOnRelativeEmbeddings()).isFalse();
  }

  @Test
  void ropeThetaAtTopLevelOrInRopeParameters() throws IOException {
    var v4 = (MistralConfig) parse("{\"model_type\":\"mistral\",\"rope_theta\":1000000.0,\"sliding_window\":null}");
    var v5 = (MistralConfig) parse("{\"model_type\":\"mistral\",\"rope_parameters\":{\"rope_theta\":500000.0,\"rope_type\":\"default\"}}");
    assertThat(v4.ropeTheta()).isEqualTo(1e6);
    assertThat(v4.slidingWindow()).isNull();
    assertThat(v5.ropeTheta()).isEqualTo(5e5);
    assertThat(v5.slidingWindow()).isEqualTo(4096); // HF MistralConfig default
    assertThat(v5.numKeyValueHeads()).isEqualTo(8);
    assertThat(v5.headDim()).isEqualTo(128);
    var phi = (PhiConfig) parse("{\"model_type\":\"phi\",\"hidden_size\":2560,\"num_attention_heads\":32,"
        + "\"rope_parameters\":{\"rope_theta\":10000.0,\"partial_rotary_factor\":0.4}}");
    assertThat(phi.partialRotaryFactor()).isEqualTo(0.4);
    assertThat(phi.rotaryDim()).isEqualTo(32); // int(80 * 0.4)
    assertThat(phi.numKeyValueHeads()).isEqualTo(32);
  }

  @Test
  void llamaLoadsAsTheMistralArchitectureWithoutWindow() throws IOException {
    var llama = (MistralConfig) parse("{\"model_type\":\"llama\",\"num_attention_heads\":8,\"hidden_size\":64}");
    assertThat(llama.modelType()).isEqualTo("llama");
    assertThat(llama.slidingWindow()).isNull();
    assertThat(llama.numKeyValueHeads()).isEqualTo(8);
    assertThat(llama.intermediateSize()).isEqualTo(11008);
    assertThatThrownBy(() -> parse("{\"model_type\":\"llama\",\"rope_scaling\":{\"type\":\"linear\",\"factor\":2.0}}"))
        .hasMessageContaining("RoPE scaling");
  }

  @Test
  void gemmaAndT5Defaults() throws IOException {
    var gemma = (GemmaConfig) parse("{\"model_type\":\"gemma\",\"hidden_activation\":\"gelu_pytorch_tanh\",\"num_key_value_heads\":1}");
    assertThat(gemma.headDim()).isEqualTo(256);
    assertThat(gemma.tieWordEmbeddings()).isTrue();
    assertThat(gemma.hiddenAct()).isEqualTo("gelu_pytorch_tanh");
    assertThat(gemma.bosTokenId()).containsExactly(2);
    var t5 = (T5Config) parse("{\"model_type\":\"t5\",\"d_model\":768,\"num_heads\":12,\"feed_forward_proj\":\"gated-gelu\"}");
    assertThat(t5.isGatedAct()).isTrue();
    assertThat(t5.denseActFn()).isEqualTo("gelu_new");
    assertThat(t5.dKv()).isEqualTo(64);
    assertThat(t5.relativeAttentionMaxDistance()).isEqualTo(128);
    assertThatThrownBy(() -> parse("{\"model_type\":\"t5\",\"feed_forward_proj\":\"gelu-relu-x\"}"))
        .hasMessageContaining("feed_forward_proj 'gelu-relu-x'");
  }

  @Test
  void bertDefaultsAndAbsolutePositionsOnly() throws IOException {
    var bert = (BertConfig) parse("{\"model_type\":\"bert\",\"hidden_size\":384,\"num_attention_heads\":12,"
        + "\"position_embedding_type\":\"absolute\"}");
    assertThat(bert.vocabSize()).isEqualTo(30522);
    assertThat(bert.numHiddenLayers()).isEqualTo(12);
    assertThat(bert.intermediateSize()).isEqualTo(3072);
    assertThat(bert.hiddenAct()).isEqualTo("gelu");
    assertThat(bert.maxPositionEmbeddings()).isEqualTo(512);
    assertThat(bert.typeVocabSize()).isEqualTo(2);
    assertThat(bert.layerNormEps()).isEqualTo(1e-12);
    assertThat(bert.headDim()).isEqualTo(32);
    assertThatThrownBy(() -> parse("{\"model_type\":\"bert\",\"position_embedding_type\":\"relative_key\"}"))
        .hasMessageContaining("position_embedding_type").hasMessageContaining("relative_key");
    assertThatThrownBy(() -> parse("{\"model_type\":\"bert\",\"hidden_size\":100,\"num_attention_heads\":12}"))
        .hasMessageContaining("hidden_size");
  }

  @Test
  void badConfigsNameTheFileAndKey() throws IOException {
    assertThatThrownBy(() -> parse("{\"model_type\":\"gpt_neox\"}"))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining(tmp.resolve("config.json").toString())
        .hasMessageContaining("unsupported model_type 'gpt_neox'; supported: bert, deberta-v2, t5, phi, mistral, llama, gemma");
    assertThatThrownBy(() -> parse("{\"hidden_size\": 4}")).hasMessageContaining("no \"model_type\"");
    assertThatThrownBy(() -> parse("{\"model_type\":\"mistral\",\"hidden_size\":\"big\"}"))
        .hasMessageContaining("\"hidden_size\" should be an integer, is \"big\"");
    assertThatThrownBy(() -> parse("{\"model_type\":")).hasMessageContaining("not valid JSON");
  }
}
