package org.promptrecovery4j.weights.onnx;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.promptrecovery4j.core.ProtoWire;
import org.promptrecovery4j.weights.DType;
import org.promptrecovery4j.weights.ModelFormatException;
import org.promptrecovery4j.weights.TensorInfo;
import org.promptrecovery4j.weights.WeightSource;

/**
 * The initializers of an ONNX {@code ModelProto} as HuggingFace-named tensors.
 *
 * <p>Read with a small reader of the protobuf wire format ({@link ProtoWire}) over the memory-mapped file,
 * not protobuf-java: only six messages and a dozen fields of the schema are needed, {@code raw_data} stays
 * in the mapped file (no copy), every size is checked against the file before anything is allocated, and
 * no generated code or protoc step joins the build. The whole file is validated on open: truncated or
 * non-ONNX bytes, unknown or unsupported data types, a byte or value count that does not match the shape,
 * duplicate initializer names, external data outside the model's folder.
 *
 * <p>Names: an initializer keeps its name unless the exporter renamed it ({@code onnx::…} or a
 * {@code /scope/…} name). {@code torch.onnx.export} renames the weight of a {@code Linear} to
 * {@code onnx::MatMul_N} and stores it as {@code [in, out]}; its HF name is recovered from the graph (the
 * MatMul whose output feeds an Add with the initializer {@code <prefix>.bias} → {@code <prefix>.weight}) and
 * it is transposed back to {@code [out, in]}. A renamed initializer that is not mapped is an error naming it,
 * except graph constants that are no weight (a scalar, or an integer vector such as a Reshape's shape),
 * which are left out and listed by {@link #droppedConstants()}.
 */
public final class OnnxFile implements WeightSource {

  private enum Kind { RAW, EXTERNAL, TYPED }

  private record Stored(TensorInfo info, String onnxName, Kind kind, long offset, int protoStart, int protoEnd, int typedField,
      FileChannel external, boolean transpose) {}

  private record Node(String op, List<String> inputs, List<String> outputs) {}

  /** An initializer as read, before naming. */
  private record Init(String name, DType dtype, long[] shape, Kind kind, long offset, long byteLength, Path file,
      int protoStart, int protoEnd, int typedField, FileChannel external) {}

  private final Path file;
  private final FileChannel channel;
  private final ByteBuffer map;
  private final Map<String, Stored> tensors;
  private final List<String> dropped;
  private final List<FileChannel> externals;

  private OnnxFile(Path file, FileChannel channel, ByteBuffer map, Map<String, Stored> tensors, List<String> dropped,
      List<FileChannel> externals) {
    this.file = file;
    this.channel = channel;
    this.map = map;
    this.tensors = tensors;
    this.dropped = dropped;
    this.externals = externals;
  }

  /** Opens and validates an ONNX model file; external data files are opened from its folder. */
  public static OnnxFile open(Path file) throws IOException {
    FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
    List<FileChannel> externals = new ArrayList<>();
    try {
      long size = ch.size();
      if (size == 0) {
        throw new ModelFormatException(file + ": empty file, not an ONNX model");
      }
      if (size > Integer.MAX_VALUE) {
        throw new ModelFormatException(file + ": " + size + " bytes; an ONNX protobuf cannot exceed 2 GB"
            + " (large models keep their weights in external data files)");
      }
      ByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.LITTLE_ENDIAN);
      Parser p = new Parser(file, map, externals);
      p.parseModel((int) size);
      Map<String, Stored> tensors = p.name();
      return new OnnxFile(file, ch, map, tensors, p.dropped, externals);
    } catch (IOException | RuntimeException e) {
      for (FileChannel x : externals) {
        x.close();
      }
      ch.close();
      throw e;
    }
  }

  /** Renamed graph constants (no weight) left out of {@link #names()}. */
  public List<String> droppedConstants() {
    return dropped;
  }

  /** The initializer name in the ONNX file of a tensor (differs from the HF name for renamed weights). */
  public String onnxName(String name) {
    return stored(name).onnxName();
  }

  @Override
  public Path location() {
    return file;
  }

  @Override
  public List<String> names() {
    return List.copyOf(tensors.keySet());
  }

  @Override
  public boolean contains(String name) {
    return tensors.containsKey(name);
  }

  @Override
  public TensorInfo info(String name) {
    return stored(name).info();
  }

  private Stored stored(String name) {
    Stored s = tensors.get(name);
    if (s == null) {
      throw new ModelFormatException(file + ": no tensor named '" + name + "'");
    }
    return s;
  }

  @Override
  public ByteBuffer bytes(String name) {
    Stored s = stored(name);
    TensorInfo t = s.info();
    if (t.byteLength() > Integer.MAX_VALUE - 8) {
      throw new ModelFormatException(file + ": tensor '" + name + "' is " + t.byteLength()
          + " bytes, more than one buffer holds");
    }
    ByteBuffer b = stores(s);
    if (s.transpose()) {
      b = transpose(b, (int) t.shape()[1], (int) t.shape()[0], t.dtype().byteSize());
    }
    return b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The bytes as stored (before any transposition). */
  private ByteBuffer stores(Stored s) {
    TensorInfo t = s.info();
    switch (s.kind()) {
      case RAW:
        return map.slice((int) s.offset(), (int) t.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
      case EXTERNAL:
        try {
          return s.external().map(FileChannel.MapMode.READ_ONLY, s.offset(), t.byteLength())
              .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
          throw new UncheckedIOException(t.file() + ": cannot map tensor '" + s.onnxName() + "': " + e.getMessage(), e);
        }
      default:
        return decodeTyped(s);
    }
  }

  private ByteBuffer decodeTyped(Stored s) {
    TensorInfo t = s.info();
    DType d = t.dtype();
    ByteBuffer out = ByteBuffer.allocate((int) t.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
    ProtoWire w = wire(map, s.protoStart(), s.protoEnd(), file, "initializer '" + s.onnxName() + "'");
    while (w.hasMore()) {
      long key = w.key();
      int field = (int) (key >>> 3);
      int wt = (int) (key & 7);
      if (field != s.typedField()) {
        w.skip(wt);
        continue;
      }
      if (wt == ProtoWire.LEN) {
        int n = w.len();
        ProtoWire packed = wire(map, w.lenStart(), w.lenStart() + n, file, "packed values");
        while (packed.hasMore()) {
          putValue(out, d, packed);
        }
      } else {
        putValue(out, d, w);
      }
    }
    return out.flip();
  }

  private static void putValue(ByteBuffer out, DType d, ProtoWire w) {
    switch (d) {
      case F32 -> out.putInt(w.fixed32());
      case F64 -> out.putLong(w.fixed64());
      case I64 -> out.putLong(w.varint());
      case I32 -> out.putInt((int) w.varint());
      case F16, BF16, I16 -> out.putShort((short) w.varint());
      default -> out.put((byte) w.varint());
    }
  }

  private static ByteBuffer transpose(ByteBuffer src, int rows, int cols, int size) {
    // src is [rows, cols] (ONNX [in, out]); the result is [cols, rows]
    byte[] in = new byte[src.remaining()];
    src.duplicate().get(in);
    byte[] out = new byte[in.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        System.arraycopy(in, (r * cols + c) * size, out, (c * rows + r) * size, size);
      }
    }
    return ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
  }

  @Override
  public void close() throws IOException {
    for (FileChannel x : externals) {
      x.close();
    }
    channel.close();
  }

  /** One pass over the file: the graph's nodes and initializers, validated; then the HF names. */
  private static final class Parser {
    final Path file;
    final ByteBuffer map;
    final List<FileChannel> externals;
    final Map<Path, FileChannel> externalByPath = new HashMap<>();
    final List<Node> nodes = new ArrayList<>();
    final Map<String, Init> inits = new LinkedHashMap<>();
    final List<String> dropped = new ArrayList<>();

    Parser(Path file, ByteBuffer map, List<FileChannel> externals) {
      this.file = file;
      this.map = map;
      this.externals = externals;
    }

    void parseModel(int size) throws IOException {
      ProtoWire w = wire(map, 0, size, file, "file");
      boolean irVersion = false;
      int graphs = 0;
      int graphStart = 0;
      int graphEnd = 0;
      while (w.hasMore()) {
        long key = w.key();
        int field = (int) (key >>> 3);
        int wt = (int) (key & 7);
        if (field == 1 && wt == ProtoWire.VARINT) {
          w.varint();
          irVersion = true;
        } else if (field == 7 && wt == ProtoWire.LEN) {
          int n = w.len();
          graphs++;
          graphStart = w.lenStart();
          graphEnd = graphStart + n;
        } else {
          w.skip(wt);
        }
      }
      if (!irVersion || graphs == 0) {
        throw new ModelFormatException(file + ": not an ONNX model (no " + (irVersion ? "graph" : "ir_version")
            + " in the ModelProto)");
      }
      if (graphs > 1) {
        throw new ModelFormatException(file + ": " + graphs + " graphs in the ModelProto (expected one)");
      }
      parseGraph(graphStart, graphEnd);
    }

    void parseGraph(int start, int end) throws IOException {
      ProtoWire w = wire(map, start, end, file, "graph");
      while (w.hasMore()) {
        long key = w.key();
        int field = (int) (key >>> 3);
        int wt = (int) (key & 7);
        if (field == 1 && wt == ProtoWire.LEN) {
          int n = w.len();
          Node node = parseNode(w.lenStart(), w.lenStart() + n);
          if (node != null) {
            nodes.add(node);
          }
        } else if (field == 5 && wt == ProtoWire.LEN) {
          int n = w.len();
          Init t = parseTensor(w.lenStart(), w.lenStart() + n);
          if (inits.putIfAbsent(t.name(), t) != null) {
            throw new ModelFormatException(file + ": duplicate initializer name '" + t.name() + "'");
          }
        } else if (field == 15 && wt == ProtoWire.LEN) {
          throw new ModelFormatException(file + ": the graph has sparse initializers, which are not supported");
        } else {
          w.skip(wt);
        }
      }
    }

    /** A MatMul or Add node (the only ones naming needs; others are checked and skipped, keeping no strings). */
    Node parseNode(int start, int end) {
      String op = "";
      ProtoWire scan = wire(map, start, end, file, "node");
      while (scan.hasMore()) {
        long key = scan.key();
        if (key == (4 << 3 | ProtoWire.LEN)) {
          int n = scan.len();
          op = n <= 16 ? new String(bytesAt(scan.lenStart(), n), java.nio.charset.StandardCharsets.UTF_8) : "";
        } else {
          scan.skip((int) (key & 7));
        }
      }
      if (!op.equals("MatMul") && !op.equals("Add")) {
        return null;
      }
      ProtoWire w = wire(map, start, end, file, "node");
      List<String> in = new ArrayList<>();
      List<String> out = new ArrayList<>();
      while (w.hasMore()) {
        long key = w.key();
        int field = (int) (key >>> 3);
        int wt = (int) (key & 7);
        if (wt == ProtoWire.LEN && field == 1) {
          in.add(w.string());
        } else if (wt == ProtoWire.LEN && field == 2) {
          out.add(w.string());
        } else {
          w.skip(wt);
        }
      }
      return new Node(op, in, out);
    }

    byte[] bytesAt(int at, int n) {
      byte[] b = new byte[n];
      map.get(at, b);
      return b;
    }

    Init parseTensor(int start, int end) throws IOException {
      ProtoWire w = wire(map, start, end, file, "initializer");
      List<Long> dims = new ArrayList<>();
      int dataType = 0;
      String name = null;
      int rawStart = -1;
      int rawLen = 0;
      long[] counts = new long[12]; // values in fields 4 (float), 5 (int32), 6 (string), 7 (int64), 10 (double), 11 (uint64)
      Map<String, String> externalData = new LinkedHashMap<>();
      long dataLocation = 0;
      boolean segment = false;
      while (w.hasMore()) {
        long key = w.key();
        int field = (int) (key >>> 3);
        int wt = (int) (key & 7);
        if (field == 1 && wt == ProtoWire.VARINT) {
          dims.add(w.varint());
        } else if (field == 1 && wt == ProtoWire.LEN) {
          int n = w.len();
          ProtoWire p = wire(map, w.lenStart(), w.lenStart() + n, file, "dims");
          while (p.hasMore()) {
            dims.add(p.varint());
          }
        } else if (field == 2 && wt == ProtoWire.VARINT) {
          long dt = w.varint();
          dataType = dt >= 0 && dt < 1_000_000 ? (int) dt : -1;
        } else if (field == 3 && wt == ProtoWire.LEN) {
          w.skip(wt);
          segment = true;
        } else if (field == 8 && wt == ProtoWire.LEN) {
          name = w.string();
        } else if (field == 9 && wt == ProtoWire.LEN) {
          rawLen = w.len();
          rawStart = w.lenStart();
        } else if (field == 13 && wt == ProtoWire.LEN) {
          int n = w.len();
          ProtoWire e = wire(map, w.lenStart(), w.lenStart() + n, file, "external_data entry");
          String k = "";
          String v = "";
          while (e.hasMore()) {
            long ek = e.key();
            if (ek == (1 << 3 | ProtoWire.LEN)) {
              k = e.string();
            } else if (ek == (2 << 3 | ProtoWire.LEN)) {
              v = e.string();
            } else {
              e.skip((int) (ek & 7));
            }
          }
          externalData.put(k, v);
        } else if (field == 14 && wt == ProtoWire.VARINT) {
          dataLocation = w.varint();
        } else if (field == 4 || field == 5 || field == 6 || field == 7 || field == 10 || field == 11) {
          counts[field] += countValues(w, field, wt);
        } else {
          w.skip(wt);
        }
      }
      String where = file + ": initializer '" + name + "'";
      if (name == null) {
        throw new ModelFormatException(file + ": an initializer has no name (bytes " + start + ".." + end + ")");
      }
      if (segment) {
        throw new ModelFormatException(where + " is segmented, which is not supported");
      }
      DType dtype = dtype(dataType, where);
      long[] shape = new long[dims.size()];
      long numel = 1;
      for (int i = 0; i < shape.length; i++) {
        shape[i] = dims.get(i);
        if (shape[i] < 0) {
          throw new ModelFormatException(where + " has a negative dimension in its shape " + dims);
        }
        try {
          numel = Math.multiplyExact(numel, shape[i]);
        } catch (ArithmeticException overflow) {
          throw new ModelFormatException(where + " has a shape " + dims + " whose element count overflows a 64-bit integer");
        }
      }
      if (numel > Long.MAX_VALUE / dtype.byteSize()) {
        throw new ModelFormatException(where + ": shape " + dims + " of " + dtype + " needs more than 2^63 bytes");
      }
      long bytes = numel * dtype.byteSize();
      int typedField = typedField(dtype);
      long typed = 0;
      for (int f : new int[] {4, 5, 6, 7, 10, 11}) {
        if (counts[f] > 0 && f != typedField) {
          throw new ModelFormatException(where + " is " + ONNX_NAMES[dataType] + " but has values in "
              + FIELD_NAMES.get(f) + ", which that data type does not use");
        }
        typed += counts[f];
      }
      if (dataLocation == 1) {
        if (rawStart >= 0 || typed > 0) {
          throw new ModelFormatException(where + " has external data and also data in the file");
        }
        return external(name, dtype, shape, bytes, externalData, where);
      }
      if (dataLocation != 0) {
        throw new ModelFormatException(where + " has an unknown data_location " + dataLocation);
      }
      if (rawStart >= 0) {
        if (typed > 0) {
          throw new ModelFormatException(where + " has both raw_data and " + FIELD_NAMES.get(typedField));
        }
        if (rawLen != bytes) {
          throw new ModelFormatException(where + ": raw_data holds " + rawLen + " bytes but shape " + dims + " of "
              + dtype + " needs " + bytes);
        }
        return new Init(name, dtype, shape, Kind.RAW, rawStart, bytes, file, start, end, 0, null);
      }
      if (typed != numel) {
        throw new ModelFormatException(where + ": " + FIELD_NAMES.get(typedField) + " holds " + typed
            + " values but shape " + dims + " needs " + numel + (typed == 0 ? " (no data: no raw_data, no values)" : ""));
      }
      return new Init(name, dtype, shape, Kind.TYPED, -1, bytes, file, start, end, typedField, null);
    }

    /** Counts the values of a repeated numeric field (packed or not) without storing them. */
    long countValues(ProtoWire w, int field, int wt) {
      boolean fixed32 = field == 4;
      boolean fixed64 = field == 10;
      if (field == 6) {
        if (wt != ProtoWire.LEN) {
          throw w.error("string_data with wire type " + wt);
        }
        w.len();
        return 1;
      }
      int scalar = fixed32 ? ProtoWire.I32 : fixed64 ? ProtoWire.I64 : ProtoWire.VARINT;
      if (wt == scalar) {
        w.skip(wt);
        return 1;
      }
      if (wt != ProtoWire.LEN) {
        throw w.error("field " + FIELD_NAMES.get(field) + " with wire type " + wt);
      }
      int n = w.len();
      if (fixed32 || fixed64) {
        int size = fixed32 ? 4 : 8;
        if (n % size != 0) {
          throw w.error("packed " + FIELD_NAMES.get(field) + " of " + n + " bytes is not a whole number of values");
        }
        return n / size;
      }
      ProtoWire p = wire(map, w.lenStart(), w.lenStart() + n, file, "packed " + FIELD_NAMES.get(field));
      long count = 0;
      while (p.hasMore()) {
        p.varint();
        count++;
      }
      return count;
    }

    Init external(String name, DType dtype, long[] shape, long bytes, Map<String, String> data, String where)
        throws IOException {
      String location = data.get("location");
      if (location == null || location.isEmpty()) {
        throw new ModelFormatException(where + " has external data without a location");
      }
      Path dir = file.toAbsolutePath().normalize().getParent();
      Path rel;
      try {
        rel = Path.of(location);
      } catch (InvalidPathException e) {
        throw new ModelFormatException(where + ": external data location '" + location + "' is not a valid path", e);
      }
      Path target = dir.resolve(rel).normalize();
      if (rel.isAbsolute() || !target.startsWith(dir)) {
        throw new ModelFormatException(where + ": external data location '" + location
            + "' is outside the model's folder " + dir + " (refused)");
      }
      if (!Files.isRegularFile(target)) {
        throw new ModelFormatException(where + ": external data file " + target + " not found");
      }
      if (!target.toRealPath().startsWith(dir.toRealPath())) {
        throw new ModelFormatException(where + ": external data location '" + location
            + "' leads outside the model's folder " + dir + " through a link (refused)");
      }
      long offset = number(data.get("offset"), 0, "offset", where);
      FileChannel ch = externalByPath.get(target);
      if (ch == null) {
        ch = FileChannel.open(target, StandardOpenOption.READ);
        externals.add(ch);
        externalByPath.put(target, ch);
      }
      long size = ch.size();
      long length = number(data.get("length"), -1, "length", where);
      if (length >= 0 && length != bytes) {
        throw new ModelFormatException(where + ": external data length " + length + " but shape "
            + Arrays.toString(shape) + " of " + dtype + " needs " + bytes);
      }
      if (offset > size || bytes > size - offset) {
        throw new ModelFormatException(where + ": external data [" + offset + ", " + offset + " + " + bytes
            + ") runs past the end of " + target + " (" + size + " bytes)");
      }
      return new Init(name, dtype, shape, Kind.EXTERNAL, offset, bytes, target, 0, 0, 0, ch);
    }

    static long number(String s, long absent, String what, String where) {
      if (s == null) {
        return absent;
      }
      try {
        long v = Long.parseLong(s.trim());
        if (v < 0) {
          throw new NumberFormatException();
        }
        return v;
      } catch (NumberFormatException e) {
        throw new ModelFormatException(where + ": external data " + what + " '" + s + "' is not a byte count");
      }
    }

    /** HF names for the initializers, in file order. */
    Map<String, Stored> name() {
      Map<String, List<Node>> consumers = new HashMap<>();
      for (Node n : nodes) {
        for (String in : new LinkedHashSet<>(n.inputs())) {
          consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
        }
      }
      Map<String, Stored> out = new LinkedHashMap<>();
      for (Init t : inits.values()) {
        String hf = t.name();
        boolean transpose = false;
        if (renamed(t.name())) {
          Set<String> candidates = linearWeightNames(t, consumers);
          if (candidates.size() == 1) {
            hf = candidates.iterator().next();
            transpose = true;
          } else if (candidates.size() > 1) {
            throw new ModelFormatException(file + ": initializer '" + t.name() + "' feeds several Linear layers "
                + candidates + "; cannot choose its HF name");
          } else if (graphConstant(t)) {
            dropped.add(t.name());
            continue;
          } else {
            throw new ModelFormatException(file + ": initializer '" + t.name() + "' (" + t.dtype() + " "
                + Arrays.toString(t.shape()) + ") has an exporter's name and no HF name could be recovered from the"
                + " graph (expected a MatMul whose output feeds an Add with '<prefix>.bias')");
          }
        }
        long[] shape = transpose ? new long[] {t.shape()[1], t.shape()[0]} : t.shape();
        TensorInfo info = new TensorInfo(hf, t.dtype(), shape, t.file(), transpose || t.kind() == Kind.TYPED ? -1
            : t.offset(), t.byteLength());
        Stored s = new Stored(info, t.name(), t.kind(), t.offset(), t.protoStart(), t.protoEnd(), t.typedField(), t.external(),
            transpose);
        if (out.put(hf, s) != null) {
          throw new ModelFormatException(file + ": two initializers map to the HF name '" + hf + "' (one is '"
              + t.name() + "')");
        }
      }
      return Collections.unmodifiableMap(out);
    }

    static boolean renamed(String name) {
      return name.startsWith("onnx::") || name.startsWith("/") || name.isEmpty();
    }

    /** A renamed initializer that is no weight: a scalar, or an integer vector (a shape, axes, indices). */
    static boolean graphConstant(Init t) {
      long numel = 1;
      for (long d : t.shape()) {
        numel *= d;
      }
      return numel <= 1 || (!t.dtype().isFloatingPoint() && t.shape().length <= 1);
    }

    Set<String> linearWeightNames(Init w, Map<String, List<Node>> consumers) {
      Set<String> names = new LinkedHashSet<>();
      if (w.shape().length != 2 || !w.dtype().isFloatingPoint()) {
        return names;
      }
      for (Node mm : consumers.getOrDefault(w.name(), List.of())) {
        if (!mm.op().equals("MatMul") || mm.inputs().size() != 2 || !mm.inputs().get(1).equals(w.name())
            || mm.outputs().isEmpty()) {
          continue;
        }
        String y = mm.outputs().get(0);
        for (Node add : consumers.getOrDefault(y, List.of())) {
          if (!add.op().equals("Add") || add.inputs().size() != 2) {
            continue;
          }
          String other = add.inputs().get(0).equals(y) ? add.inputs().get(1) : add.inputs().get(0);
          Init bias = inits.get(other);
          if (bias != null && other.endsWith(".bias") && other.length() > 5 && bias.shape().length == 1
              && bias.shape()[0] == w.shape()[1]) {
            names.add(other.substring(0, other.length() - 5) + ".weight");
          }
        }
      }
      return names;
    }

    static DType dtype(int dataType, String where) {
      DType d = switch (dataType) {
        case 1 -> DType.F32;
        case 2 -> DType.U8;
        case 3 -> DType.I8;
        case 5 -> DType.I16;
        case 6 -> DType.I32;
        case 7 -> DType.I64;
        case 9 -> DType.BOOL;
        case 10 -> DType.F16;
        case 11 -> DType.F64;
        case 16 -> DType.BF16;
        default -> null;
      };
      if (d != null) {
        return d;
      }
      if (dataType > 0 && dataType < ONNX_NAMES.length) {
        throw new ModelFormatException(where + " has data type " + dataType + " (" + ONNX_NAMES[dataType]
            + "), which is not supported (supported: FLOAT, FLOAT16, BFLOAT16, DOUBLE, INT64, INT32, INT16, INT8,"
            + " UINT8, BOOL)");
      }
      throw new ModelFormatException(where + " has an unknown data type " + (dataType < 0 ? "(out of range)" : dataType));
    }

    static int typedField(DType d) {
      return switch (d) {
        case F32 -> 4;
        case I64 -> 7;
        case F64 -> 10;
        default -> 5;
      };
    }
  }

  private static final String[] ONNX_NAMES = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32",
      "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
      "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1"};

  private static final Map<Integer, String> FIELD_NAMES = Map.of(4, "float_data", 5, "int32_data", 6, "string_data",
      7, "int64_data", 10, "double_data", 11, "uint64_data");

  /** The protobuf reader of {@code map[start, end)}; its errors are {@link ModelFormatException}s naming the file. */
  private static ProtoWire wire(ByteBuffer map, int start, int end, Path file, String what) {
    return new ProtoWire(map, start, end, what, message -> new ModelFormatException(file + ": " + message));
  }
}
