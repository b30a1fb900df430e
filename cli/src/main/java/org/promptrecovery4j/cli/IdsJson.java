package org.promptrecovery4j.cli;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads [batch, length] integer inputs of {@code forward}'s input file: each key either plain nested lists
 * ({@code "input_ids": [[1, 2], [3, 4]]}) or one tensor of the tensor JSON format
 * ({@code {"shape": [2, 2], "dtype": "int64", "data": [[1, 2], [3, 4]]}}).
 */
final class IdsJson {

  /** Floats kept as written (BigDecimal), so 1e30 or 1.5 is named in an error, never rounded. */
  static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

  private final Path file;
  private final JsonNode root;

  private IdsJson(Path file, JsonNode root) {
    this.file = file;
    this.root = root;
  }

  static IdsJson read(Path file) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (IOException | NumberFormatException e) { // a number BigDecimal cannot hold (exponent past int)
      throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(file + ": expected a JSON object with \"input_ids\"");
    }
    return new IdsJson(file, root);
  }

  /** The [batch, length] LONG array under {@code key}, or null if absent and not {@code required}. */
  INDArray get(String key, boolean required) {
    JsonNode n = root.get(key);
    if (n == null || n.isNull()) {
      if (required) {
        throw new IllegalArgumentException(file + ": no \"" + key + "\"");
      }
      return null;
    }
    JsonNode rows = n.isObject() ? n.get("data") : n;
    if (rows == null || !rows.isArray() || rows.isEmpty()) {
      throw new IllegalArgumentException(file + ": \"" + key + "\" must be a non-empty [batch, length] list of lists");
    }
    int width = -1;
    long[][] out = new long[rows.size()][];
    for (int b = 0; b < rows.size(); b++) {
      JsonNode row = rows.get(b);
      if (!row.isArray()) {
        throw new IllegalArgumentException(file + ": \"" + key + "\" row " + b + " is not a list (expected [batch, length])");
      }
      if (width >= 0 && row.size() != width) {
        throw new IllegalArgumentException(file + ": \"" + key + "\" rows have different lengths (" + width + " and "
            + row.size() + "): pad them and give an attention_mask");
      }
      width = row.size();
      out[b] = new long[width];
      for (int i = 0; i < width; i++) {
        JsonNode v = row.get(i);
        if (v.isBoolean()) {
          out[b][i] = v.booleanValue() ? 1 : 0;
        } else {
          out[b][i] = integer(v, file + ": \"" + key + "\"[" + b + "][" + i + "]");
        }
      }
    }
    return Nd4j.createFromArray(out);
  }

  /**
   * A JSON integer as a long; anything else (1.5, 1e30, 9223372036854775808, "7") is an error naming
   * {@code where} and the value as read, never a silent truncation.
   */
  static long integer(JsonNode v, String where) {
    if (v != null && v.isIntegralNumber() && v.canConvertToLong()) {
      return v.longValue();
    }
    String shown = v == null ? "nothing" : v.isNumber() ? v.numberValue().toString() : v.toString();
    throw new IllegalArgumentException(where + " is not an integer token id (a 64-bit integer): " + shown);
  }
}
