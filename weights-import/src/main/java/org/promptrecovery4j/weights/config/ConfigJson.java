package org.promptrecovery4j.weights.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.promptrecovery4j.weights.ModelFormatException;

/**
 * Typed access to a HuggingFace {@code config.json}: a missing key (or JSON null) takes HF's default,
 * a value of the wrong type is an error naming the file and key.
 */
public final class ConfigJson {

  private final Path file;
  private final JsonNode root;

  ConfigJson(Path file, JsonNode root) {
    this.file = file;
    this.root = root;
  }

  /** A config given as text; {@code origin} names it in error messages (it need not exist as a file). */
  public static ConfigJson parse(Path origin, String json) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(json);
    } catch (IOException e) {
      throw new ModelFormatException(origin + ": not valid JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new ModelFormatException(origin + ": expected a JSON object");
    }
    return new ConfigJson(origin, root);
  }

  /**
   * The largest config.json read (it is parsed into memory): real ones are a few KB, up to a few MB with
   * large label maps.
   */
  public static final long MAX_BYTES = 64L << 20;

  public static ConfigJson read(Path file) throws IOException {
    JsonNode root;
    if (java.nio.file.Files.isRegularFile(file) && java.nio.file.Files.size(file) > MAX_BYTES) {
      throw new ModelFormatException(file + ": " + java.nio.file.Files.size(file) + " bytes, more than the " + MAX_BYTES
          + " a config.json can plausibly need (not a config file?)");
    }
    try {
      root = new ObjectMapper().readTree(file.toFile());
    } catch (java.io.FileNotFoundException e) {
      throw new java.io.FileNotFoundException(file + ": no such file");
    } catch (IOException e) {
      throw new ModelFormatException(file + ": not valid JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new ModelFormatException(file + ": expected a JSON object");
    }
    return new ConfigJson(file, root);
  }

  public Path file() {
    return file;
  }

  public JsonNode root() {
    return root;
  }

  public boolean has(String key) {
    return root.hasNonNull(key);
  }

  private JsonNode get(String key) {
    JsonNode n = root.get(key);
    return n == null || n.isNull() ? null : n;
  }

  private ModelFormatException wrong(String key, String expected) {
    String value = String.valueOf(root.get(key));
    if (value.length() > 200) {
      value = value.substring(0, 200) + "...";
    }
    return new ModelFormatException(file + ": \"" + key + "\" should be " + expected + ", is " + value);
  }

  public int getInt(String key, int defaultValue) {
    JsonNode n = get(key);
    if (n == null) {
      return defaultValue;
    }
    if (!n.canConvertToInt() || !(n.isIntegralNumber() || n.isDouble() && n.asDouble() == Math.rint(n.asDouble()))) {
      throw wrong(key, "an integer");
    }
    return n.asInt();
  }

  /** An integer that HF allows to be null (returns {@code null} then). */
  public Integer getIntOrNull(String key) {
    return get(key) == null ? null : getInt(key, 0);
  }

  public double getDouble(String key, double defaultValue) {
    JsonNode n = get(key);
    if (n == null) {
      return defaultValue;
    }
    if (!n.isNumber()) {
      throw wrong(key, "a number");
    }
    return n.asDouble();
  }

  public boolean getBoolean(String key, boolean defaultValue) {
    JsonNode n = get(key);
    if (n == null) {
      return defaultValue;
    }
    if (!n.isBoolean()) {
      throw wrong(key, "true or false");
    }
    return n.asBoolean();
  }

  public String getString(String key, String defaultValue) {
    JsonNode n = get(key);
    if (n == null) {
      return defaultValue;
    }
    if (!n.isTextual()) {
      throw wrong(key, "a string");
    }
    return n.asText();
  }

  /** Integer or list of integers (e.g. {@code eos_token_id}); empty when absent. */
  public List<Integer> getIntList(String key) {
    JsonNode n = get(key);
    List<Integer> out = new ArrayList<>();
    if (n == null) {
      return out;
    }
    if (n.isIntegralNumber()) {
      out.add(n.asInt());
    } else if (n.isArray()) {
      for (JsonNode x : n) {
        if (!x.isIntegralNumber()) {
          throw wrong(key, "an integer or a list of integers");
        }
        out.add(x.asInt());
      }
    } else {
      throw wrong(key, "an integer or a list of integers");
    }
    return out;
  }

  /**
   * A RoPE parameter: top level ({@code rope_theta}, transformers 4.x) or inside {@code rope_parameters}
   * (transformers 5.x).
   */
  public double getRopeParameter(String key, double defaultValue) {
    if (has(key)) {
      return getDouble(key, defaultValue);
    }
    JsonNode rp = get("rope_parameters");
    if (rp != null && rp.isObject() && rp.hasNonNull(key)) {
      JsonNode v = rp.get(key);
      if (!v.isNumber()) {
        throw new ModelFormatException(file + ": \"rope_parameters." + key + "\" should be a number, is " + v);
      }
      return v.asDouble();
    }
    return defaultValue;
  }

  /** The stored dtype HF declares ({@code torch_dtype} in 4.x, {@code dtype} in 5.x), or null. */
  public String declaredDtype() {
    String d = getString("torch_dtype", null);
    return d != null ? d : getString("dtype", null);
  }
}
