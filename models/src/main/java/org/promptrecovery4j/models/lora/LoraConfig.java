package org.promptrecovery4j.models.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.promptrecovery4j.weights.ModelFormatException;

/**
 * The {@code adapter_config.json} of a HF PEFT LoRA adapter: rank {@code r}, {@code lora_alpha}, rsLoRA scaling
 * and the target modules. Settings this project does not implement (DoRA, LoRA biases, {@code modules_to_save},
 * {@code alpha_pattern}, {@code fan_in_fan_out}) are refused with an error naming the key, never ignored.
 *
 * @param targetModules the {@code target_modules} as written (a list of names, or one regular expression)
 */
public record LoraConfig(int r, double loraAlpha, boolean useRslora, List<String> targetModules, boolean targetIsRegex,
    double loraDropout, String baseModelNameOrPath) {

  /** A config for a new adapter on the named modules (a list of names, PEFT's matching). */
  public static LoraConfig of(int r, double loraAlpha, List<String> targetModules) {
    if (r < 1 || r > 65536 || !(loraAlpha > 0)) {
      throw new IllegalArgumentException("LoRA r must be in [1, 65536] and alpha positive, are " + r + " and " + loraAlpha);
    }
    return new LoraConfig(r, loraAlpha, false, List.copyOf(targetModules), false, 0, "");
  }

  /** This config with PEFT's {@code lora_dropout} set to {@code p} (in [0, 1)). */
  public LoraConfig withDropout(double p) {
    if (!(p >= 0 && p < 1)) {
      throw new IllegalArgumentException("lora_dropout must be in [0, 1), is " + p);
    }
    return new LoraConfig(r, loraAlpha, useRslora, targetModules, targetIsRegex, p, baseModelNameOrPath);
  }

  /** PEFT's scaling of {@code B A x} for a module of rank {@code rank}: alpha / r, or alpha / sqrt(r) with rsLoRA. */
  public double scaling(int rank) {
    return useRslora ? loraAlpha / Math.sqrt(rank) : loraAlpha / rank;
  }

  /** Reads and checks an {@code adapter_config.json}. */
  public static LoraConfig read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new java.io.FileNotFoundException(file + ": no adapter_config.json (is this a PEFT adapter folder?)");
    }
    JsonNode c = new ObjectMapper().readTree(file.toFile());
    if (c == null || !c.isObject()) {
      throw new ModelFormatException(file + ": expected a JSON object");
    }
    String type = c.path("peft_type").asText("LORA");
    if (!type.equals("LORA")) {
      throw new ModelFormatException(file + ": peft_type " + type + " is not supported (LORA only)");
    }
    refuseIfSet(file, c, "use_dora", "DoRA");
    refuseIfSet(file, c, "fan_in_fan_out", "fan_in_fan_out (GPT-2 Conv1D layers)");
    refuseIfSet(file, c, "lora_bias", "LoRA biases");
    if (!c.path("bias").asText("none").equals("none")) {
      throw new ModelFormatException(file + ": bias \"" + c.path("bias").asText() + "\" is not supported (\"none\" only)");
    }
    for (String key : new String[] {"modules_to_save", "alpha_pattern", "layers_to_transform", "layer_replication"}) {
      JsonNode v = c.path(key);
      if (!v.isMissingNode() && !v.isNull() && v.size() > 0) {
        throw new ModelFormatException(file + ": " + key + " is not supported (it is " + v + ")");
      }
    }
    int r = c.path("r").asInt(8);
    double alpha = c.path("lora_alpha").asDouble(8);
    if (r < 1 || r > 65536 || !(alpha > 0) || Double.isInfinite(alpha)) {
      throw new ModelFormatException(file + ": r must be in [1, 65536] and lora_alpha positive, are " + r + " and " + alpha);
    }
    List<String> targets = new ArrayList<>();
    JsonNode t = c.path("target_modules");
    if (t.isTextual()) {
      targets.add(t.asText());
    } else if (t.isArray()) {
      t.forEach(x -> targets.add(x.asText()));
    }
    return new LoraConfig(r, alpha, c.path("use_rslora").asBoolean(false), List.copyOf(targets), t.isTextual(),
        c.path("lora_dropout").asDouble(0), c.path("base_model_name_or_path").asText(""));
  }

  private static void refuseIfSet(Path file, JsonNode c, String key, String what) {
    if (c.path(key).asBoolean(false)) {
      throw new ModelFormatException(file + ": " + key + " is set; " + what + " is not supported");
    }
  }
}
