package org.promptrecovery4j.weights.config;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A typed HuggingFace model configuration. Field names follow the HF config keys in camelCase;
 * missing keys take the defaults of the HF configuration class.
 */
public sealed interface ModelConfig
    permits BertConfig, DebertaV2Config, T5Config, PhiConfig, MistralConfig, GemmaConfig {

  /** The {@code model_type}s this project implements. */
  List<String> SUPPORTED = List.of("bert", "deberta-v2", "t5", "phi", "mistral", "llama", "gemma");

  String modelType();

  /** The dtype the config declares for the weights ({@code torch_dtype}/{@code dtype}), or null. */
  String declaredDtype();

  /** Reads {@code config.json} (a file, or a folder holding one). */
  static ModelConfig read(Path path) throws IOException {
    Path file = java.nio.file.Files.isDirectory(path) ? path.resolve("config.json") : path;
    return parse(ConfigJson.read(file));
  }

  static ModelConfig parse(ConfigJson json) {
    String type = json.getString("model_type", null);
    if (type == null) {
      throw new org.promptrecovery4j.weights.ModelFormatException(
          json.file() + ": no \"model_type\"; supported: " + String.join(", ", SUPPORTED));
    }
    return switch (type) {
      case "bert" -> BertConfig.from(json);
      case "deberta-v2" -> DebertaV2Config.from(json);
      case "t5" -> T5Config.from(json);
      case "phi" -> PhiConfig.from(json);
      case "mistral", "llama" -> MistralConfig.from(json);
      case "gemma" -> GemmaConfig.from(json);
      default -> throw new org.promptrecovery4j.weights.ModelFormatException(
          json.file() + ": unsupported model_type '" + type + "'; supported: " + String.join(", ", SUPPORTED));
    };
  }
}
