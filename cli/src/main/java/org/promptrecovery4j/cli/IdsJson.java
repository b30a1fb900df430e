package org.promptrecovery4j.cli;

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

  private final Path file;
  private final JsonNode root;

  private IdsJson(Path file, JsonNode root) {
    this.file = file;
    this.root = root;
  }

  static IdsJson read(Path file) throws IOException {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
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
        } else if (v.isIntegralNumber() && v.canConvertToLong()) {
          out[b][i] = v.longValue();
        } else {
          throw new IllegalArgumentException(file + ": \"" + key + "\"[" + b + "][" + i + "] is not an integer: " + v);
        }
      }
    }
    return Nd4j.createFromArray(out);
  }
}
