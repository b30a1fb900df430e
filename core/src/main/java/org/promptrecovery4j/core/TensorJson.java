package org.promptrecovery4j.core;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The tensor JSON format every command that writes tensors uses:
 *
 * <pre>{"name": {"shape": [2, 3], "dtype": "float32", "data": [[...], [...]]}, "list": [{...}, {...}]}</pre>
 *
 * <p>A value is one tensor or a list of tensors (e.g. {@code hidden_states}). Floats are written with
 * the shortest decimal that reads back to the same float32; NaN and infinities as the strings
 * {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"}.
 */
public final class TensorJson {

  private static final JsonFactory FACTORY = new JsonFactory();
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private TensorJson() {}

  /** Writes tensors (values: {@link INDArray} or {@code List<INDArray>}) atomically to {@code file}. */
  public static void write(Path file, Map<String, ?> tensors) throws IOException {
    AtomicFiles.write(file, out -> write(out, tensors));
  }

  public static void write(OutputStream out, Map<String, ?> tensors) throws IOException {
    try (JsonGenerator g = FACTORY.createGenerator(out, JsonEncoding.UTF8)) {
      g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
      g.writeStartObject();
      for (Map.Entry<String, ?> e : tensors.entrySet()) {
        g.writeFieldName(e.getKey());
        Object v = e.getValue();
        if (v instanceof INDArray a) {
          writeTensor(g, a);
        } else if (v instanceof List<?> list) {
          g.writeStartArray();
          for (Object o : list) {
            if (!(o instanceof INDArray a)) {
              throw new IllegalArgumentException("tensor list '" + e.getKey() + "' holds a " + typeOf(o));
            }
            writeTensor(g, a);
          }
          g.writeEndArray();
        } else {
          throw new IllegalArgumentException("'" + e.getKey() + "' is a " + typeOf(v) + ", not a tensor");
        }
      }
      g.writeEndObject();
      g.writeRaw('\n');
    }
  }

  private static String typeOf(Object o) {
    return o == null ? "null" : o.getClass().getSimpleName();
  }

  private static void writeTensor(JsonGenerator g, INDArray a) throws IOException {
    long[] shape = a.shape();
    DataType dt = a.dataType();
    g.writeStartObject();
    g.writeArrayFieldStart("shape");
    for (long s : shape) {
      g.writeNumber(s);
    }
    g.writeEndArray();
    g.writeStringField("dtype", dtypeName(dt));
    g.writeFieldName("data");
    INDArray c = a.isView() || a.ordering() != 'c' ? a.dup('c') : a;
    if (dt.isFPType()) {
      float[] data = c.castTo(DataType.FLOAT).data().asFloat();
      writeNested(g, shape, 0, new int[] {0}, data, null, null);
    } else if (dt == DataType.BOOL) {
      long[] data = c.castTo(DataType.LONG).data().asLong();
      writeNested(g, shape, 0, new int[] {0}, null, data, Boolean.TRUE);
    } else {
      long[] data = c.castTo(DataType.LONG).data().asLong();
      writeNested(g, shape, 0, new int[] {0}, null, data, null);
    }
    g.writeEndObject();
  }

  private static void writeNested(
      JsonGenerator g, long[] shape, int dim, int[] pos, float[] f, long[] l, Boolean bool)
      throws IOException {
    if (dim == shape.length) { // scalar
      writeValue(g, pos[0]++, f, l, bool);
      return;
    }
    g.writeStartArray();
    for (long i = 0; i < shape[dim]; i++) {
      if (dim == shape.length - 1) {
        writeValue(g, pos[0]++, f, l, bool);
      } else {
        writeNested(g, shape, dim + 1, pos, f, l, bool);
      }
    }
    g.writeEndArray();
  }

  private static void writeValue(JsonGenerator g, int i, float[] f, long[] l, Boolean bool)
      throws IOException {
    if (f != null) {
      float v = f[i];
      if (Float.isFinite(v)) {
        g.writeNumber(v);
      } else {
        g.writeString(Float.toString(v));
      }
    } else if (bool != null) {
      g.writeBoolean(l[i] != 0);
    } else {
      g.writeNumber(l[i]);
    }
  }

  /** The dtype names of this format (numpy's). */
  public static String dtypeName(DataType dt) {
    return switch (dt) {
      case FLOAT -> "float32";
      case DOUBLE -> "float64";
      case HALF -> "float16";
      case BFLOAT16 -> "bfloat16";
      case LONG -> "int64";
      case INT -> "int32";
      case SHORT -> "int16";
      case BYTE -> "int8";
      case UBYTE -> "uint8";
      case BOOL -> "bool";
      default -> dt.name().toLowerCase(java.util.Locale.ROOT);
    };
  }

  /**
   * Reads a tensor JSON file: values are {@link INDArray} or {@code List<INDArray>}, in file order. Every
   * way a file can be wrong (not JSON, nested deeper than Jackson's limit of 1000, a shape whose product is
   * not the number of values given, a value that is not a number of the dtype) is an
   * {@link IOException} or {@link IllegalArgumentException} naming the file and the tensor; the shape is
   * checked against the values the file holds before anything of its size is allocated.
   */
  public static Map<String, Object> read(Path file) throws IOException {
    JsonNode root;
    try (java.io.InputStream in = Files.newInputStream(file)) {
      root = MAPPER.readTree(in);
    } catch (IOException e) {
      throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(file + ": expected a JSON object of tensors");
    }
    Map<String, Object> result = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getValue().isArray()) {
        List<INDArray> list = new ArrayList<>();
        int i = 0;
        for (JsonNode n : e.getValue()) {
          list.add(readTensor(file, e.getKey() + "[" + i++ + "]", n));
        }
        result.put(e.getKey(), list);
      } else {
        result.put(e.getKey(), readTensor(file, e.getKey(), e.getValue()));
      }
    }
    return result;
  }

  /**
   * One tensor object ({@code {"shape", "dtype", "data"}}) of an already parsed JSON tree, with the checks of
   * {@link #read}; {@code where} names it in errors (e.g. the file and the key path).
   */
  public static INDArray tensor(JsonNode n, String where) {
    return readTensor(where, n);
  }

  private static INDArray readTensor(Path file, String name, JsonNode n) {
    return readTensor(file + ": tensor '" + name + "'", n);
  }

  private static INDArray readTensor(String where, JsonNode n) {
    JsonNode shapeNode = n.get("shape");
    JsonNode data = n.get("data");
    if (shapeNode == null || !shapeNode.isArray() || data == null) {
      throw new IllegalArgumentException(where + " needs \"shape\" and \"data\"");
    }
    if (shapeNode.size() > 32) {
      throw new IllegalArgumentException(where + " has " + shapeNode.size() + " dimensions (at most 32)");
    }
    long[] shape = new long[shapeNode.size()];
    long count = 1;
    boolean overflow = false;
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = shapeNode.get(i);
      if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
        throw new IllegalArgumentException(where + ": shape[" + i + "] = " + d + " is not a size (an integer >= 0)");
      }
      shape[i] = d.longValue();
      try {
        count = Math.multiplyExact(count, shape[i]);
      } catch (ArithmeticException e) {
        overflow = true;
      }
    }
    if (overflow && count != 0) {
      count = Long.MAX_VALUE; // the product is past any file: refused below as "values for shape"
    }
    String dtype = n.has("dtype") ? n.get("dtype").asText() : "float32";
    // the values the file holds are counted first: a shape claiming more is refused before any allocation
    long given = countLeaves(data);
    if (given != count) {
      throw new IllegalArgumentException(
          where + " has " + given + " values for shape " + java.util.Arrays.toString(shape)
              + (overflow ? " (more values than a long counts)" : " (" + count + " values)"));
    }
    if (count > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(where + " has " + count + " values, more than one Java array holds");
    }
    List<JsonNode> flat = new ArrayList<>((int) count);
    flatten(data, flat);
    switch (dtype) {
      case "float32", "float16", "bfloat16", "float64" -> {
        float[] v = new float[flat.size()];
        for (int i = 0; i < v.length; i++) {
          v[i] = floatValue(flat.get(i), where, i);
        }
        return Nd4j.create(v, shape, 'c');
      }
      case "int64", "int32", "int16", "int8", "uint8", "bool" -> {
        long min = switch (dtype) {
          case "int32" -> Integer.MIN_VALUE;
          case "int16" -> Short.MIN_VALUE;
          case "int8" -> Byte.MIN_VALUE;
          case "uint8", "bool" -> 0;
          default -> Long.MIN_VALUE;
        };
        long max = switch (dtype) {
          case "int32" -> Integer.MAX_VALUE;
          case "int16" -> Short.MAX_VALUE;
          case "int8" -> Byte.MAX_VALUE;
          case "uint8" -> 255;
          case "bool" -> 1;
          default -> Long.MAX_VALUE;
        };
        long[] v = new long[flat.size()];
        for (int i = 0; i < v.length; i++) {
          JsonNode x = flat.get(i);
          if (x.isBoolean()) {
            v[i] = x.booleanValue() ? 1 : 0;
          } else if (x.isIntegralNumber() && x.canConvertToLong() && x.longValue() >= min && x.longValue() <= max) {
            v[i] = x.longValue();
          } else {
            throw new IllegalArgumentException(where + ": value " + i + " = " + shown(x) + " is not a " + dtype);
          }
        }
        INDArray a = Nd4j.createFromArray(v).reshape(shape);
        return dtype.equals("int64") ? a : a.castTo(dtype.equals("bool") ? DataType.BOOL : DataType.INT);
      }
      default -> throw new IllegalArgumentException(where + " has unknown dtype '"
          + (dtype.length() > 40 ? dtype.substring(0, 40) + "..." : dtype) + "'");
    }
  }

  private static float floatValue(JsonNode x, String where, int i) {
    if (x.isNumber()) {
      return x.floatValue();
    }
    if (x.isTextual()) {
      switch (x.asText()) {
        case "NaN", "nan":
          return Float.NaN;
        case "Infinity", "inf":
          return Float.POSITIVE_INFINITY;
        case "-Infinity", "-inf":
          return Float.NEGATIVE_INFINITY;
        default:
          break;
      }
    }
    throw new IllegalArgumentException(where + ": value " + i + " = " + shown(x)
        + " is not a number (nor \"NaN\", \"Infinity\", \"-Infinity\")");
  }

  /** A JSON value for a message, cut to 40 characters. */
  private static String shown(JsonNode x) {
    String s = String.valueOf(x);
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }

  /** The number of non-array values in {@code n}, without recursion. */
  private static long countLeaves(JsonNode n) {
    long count = 0;
    java.util.ArrayDeque<JsonNode> todo = new java.util.ArrayDeque<>();
    todo.push(n);
    while (!todo.isEmpty()) {
      JsonNode x = todo.pop();
      if (x.isArray()) {
        for (JsonNode c : x) {
          todo.push(c);
        }
      } else {
        count++;
      }
    }
    return count;
  }

  /** The non-array values of {@code n} in order, without recursion. */
  private static void flatten(JsonNode n, List<JsonNode> out) {
    java.util.ArrayDeque<Iterator<JsonNode>> stack = new java.util.ArrayDeque<>();
    if (!n.isArray()) {
      out.add(n);
      return;
    }
    stack.push(n.elements());
    while (!stack.isEmpty()) {
      Iterator<JsonNode> it = stack.peek();
      if (!it.hasNext()) {
        stack.pop();
        continue;
      }
      JsonNode c = it.next();
      if (c.isArray()) {
        stack.push(c.elements());
      } else {
        out.add(c);
      }
    }
  }
}
