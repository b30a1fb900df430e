package org.promptrecovery4j.weights.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.weights.ModelFormatException;

/** config.json sizes are bounded ({@link ConfigLimits}) and consistent before any model allocates from them. */
class ConfigLimitsTest {

  @TempDir Path tmp;

  private ModelConfig parse(String json) throws IOException {
    Path p = tmp.resolve("config.json");
    Files.writeString(p, json);
    return ModelConfig.read(p);
  }

  private void assertRefused(String json, String... fragments) {
    assertThatThrownBy(() -> parse(json)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("config.json: ").hasMessageContainingAll(fragments);
  }

  @Test
  void absurdHiddenSizeIsRefused() {
    for (String type : new String[] {"mistral", "llama", "gemma", "phi", "deberta-v2"}) {
      assertRefused("{\"model_type\":\"" + type + "\",\"hidden_size\":1000000000}",
          "\"hidden_size\" is 1000000000, outside the supported range [1, 65536]");
    }
    assertRefused("{\"model_type\":\"t5\",\"d_model\":1000000000}", "\"d_model\" is 1000000000");
  }

  @Test
  void zeroOrNegativeHeadsAreRefused() {
    assertRefused("{\"model_type\":\"mistral\",\"num_attention_heads\":0}",
        "\"num_attention_heads\" is 0, outside the supported range [1, 1024]");
    assertRefused("{\"model_type\":\"llama\",\"num_attention_heads\":-3}", "\"num_attention_heads\" is -3");
    assertRefused("{\"model_type\":\"phi\",\"num_attention_heads\":0}", "\"num_attention_heads\" is 0");
    assertRefused("{\"model_type\":\"deberta-v2\",\"num_attention_heads\":-3}", "\"num_attention_heads\" is -3");
    assertRefused("{\"model_type\":\"t5\",\"num_heads\":0}", "\"num_heads\" is 0");
    assertRefused("{\"model_type\":\"gemma\",\"num_key_value_heads\":0}", "\"num_key_value_heads\" is 0");
  }

  @Test
  void headCountsThatDoNotDivideAreRefused() {
    assertRefused("{\"model_type\":\"mistral\",\"num_attention_heads\":32,\"num_key_value_heads\":5}",
        "\"num_attention_heads\" 32 is not a multiple of \"num_key_value_heads\" 5");
    assertRefused("{\"model_type\":\"llama\",\"num_attention_heads\":4,\"num_key_value_heads\":8}",
        "\"num_key_value_heads\" is 8, outside the supported range [1, 4]");
    // hidden_size must split into heads where the head size is derived from it
    assertRefused("{\"model_type\":\"mistral\",\"hidden_size\":100,\"num_attention_heads\":3,\"num_key_value_heads\":1}",
        "\"hidden_size\" 100 is not divisible by \"num_attention_heads\" 3");
    assertRefused("{\"model_type\":\"phi\",\"hidden_size\":100,\"num_attention_heads\":3}", "not divisible");
    assertRefused("{\"model_type\":\"deberta-v2\",\"hidden_size\":100,\"num_attention_heads\":3}", "not divisible");
    // an explicit head_dim need not divide (Gemma-7B: 3072 hidden, 16 heads of 256) but must be even
    MistralConfig explicit = (MistralConfig) uncheckedParse(
        "{\"model_type\":\"mistral\",\"hidden_size\":100,\"num_attention_heads\":3,\"num_key_value_heads\":1,\"head_dim\":32}");
    assertThat(explicit.headDim()).isEqualTo(32);
    assertRefused("{\"model_type\":\"gemma\",\"head_dim\":33}", "\"head_dim\" 33 is odd");
    assertRefused("{\"model_type\":\"phi\",\"hidden_size\":64,\"num_attention_heads\":2,\"partial_rotary_factor\":0.01}",
        "rotary size");
  }

  @Test
  void vocabPositionsIntermediateAndLayersAreBounded() {
    assertRefused("{\"model_type\":\"mistral\",\"vocab_size\":0}", "\"vocab_size\" is 0");
    assertRefused("{\"model_type\":\"t5\",\"vocab_size\":-1}", "\"vocab_size\" is -1");
    assertRefused("{\"model_type\":\"llama\",\"max_position_embeddings\":1000000000}",
        "\"max_position_embeddings\" is 1000000000, outside the supported range [1, 16777216]");
    assertRefused("{\"model_type\":\"deberta-v2\",\"max_relative_positions\":1000000000}",
        "\"max_relative_positions\" is 1000000000");
    assertRefused("{\"model_type\":\"deberta-v2\",\"position_buckets\":1000000000}", "\"position_buckets\" is 1000000000");
    assertRefused("{\"model_type\":\"t5\",\"relative_attention_num_buckets\":1000000000}",
        "\"relative_attention_num_buckets\" is 1000000000");
    assertRefused("{\"model_type\":\"t5\",\"relative_attention_max_distance\":0}", "\"relative_attention_max_distance\" is 0");
    assertRefused("{\"model_type\":\"gemma\",\"intermediate_size\":1000000000}", "\"intermediate_size\" is 1000000000");
    assertRefused("{\"model_type\":\"t5\",\"d_ff\":1000000000}", "\"d_ff\" is 1000000000");
    assertRefused("{\"model_type\":\"phi\",\"num_hidden_layers\":1000000}", "\"num_hidden_layers\" is 1000000");
    assertRefused("{\"model_type\":\"t5\",\"num_layers\":0}", "\"num_layers\" is 0");
    assertRefused("{\"model_type\":\"t5\",\"num_heads\":1024,\"d_kv\":1024}", "\"num_heads\" 1024 * \"d_kv\" 1024");
    assertRefused("{\"model_type\":\"mistral\",\"rope_theta\":-1}", "\"rope_theta\" is -1.0");
    assertRefused("{\"model_type\":\"mistral\",\"sliding_window\":0}", "\"sliding_window\" is 0");
  }

  @Test
  void realLargeModelsAreAccepted() throws IOException {
    // Llama 3.1 405B and Gemma's 256k vocabulary with 128k positions
    var llama = (MistralConfig) parse("{\"model_type\":\"llama\",\"vocab_size\":128256,\"hidden_size\":16384,"
        + "\"intermediate_size\":53248,\"num_hidden_layers\":126,\"num_attention_heads\":128,\"num_key_value_heads\":8,"
        + "\"max_position_embeddings\":131072,\"rope_theta\":500000.0}");
    assertThat(llama.headDim()).isEqualTo(128);
    var gemma = (GemmaConfig) parse("{\"model_type\":\"gemma\",\"vocab_size\":256000,\"hidden_size\":3072,"
        + "\"num_attention_heads\":16,\"num_key_value_heads\":16,\"head_dim\":256,\"max_position_embeddings\":131072}");
    assertThat(gemma.vocabSize()).isEqualTo(256000);
    var t5 = (T5Config) parse("{\"model_type\":\"t5\",\"d_model\":1024,\"d_kv\":128,\"d_ff\":65536,\"num_heads\":128,"
        + "\"num_layers\":24}");
    assertThat(t5.innerDim()).isEqualTo(16384);
  }

  @Test
  void deeplyNestedConfigIsANamedError() {
    String deep = "{\"model_type\":\"mistral\",\"x\":" + "[".repeat(200_000) + "]".repeat(200_000) + "}";
    assertRefused(deep, "not valid JSON", "nesting depth");
    // within Jackson's depth limit (1000) a nested value is read, and printed short in errors
    String nested = "{\"model_type\":\"mistral\",\"hidden_size\":" + "[".repeat(900) + "]".repeat(900) + "}";
    assertThatThrownBy(() -> parse(nested)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("\"hidden_size\" should be an integer, is [[[[")
        .satisfies(e -> assertThat(e.getMessage().length()).isLessThan(400 + tmp.toString().length()));
  }

  private ModelConfig uncheckedParse(String json) {
    try {
      return parse(json);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
