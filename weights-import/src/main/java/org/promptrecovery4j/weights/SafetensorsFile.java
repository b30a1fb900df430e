package org.promptrecovery4j.weights;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@code .safetensors} file, memory-mapped: an 8-byte little-endian header length, a JSON header
 * of {@code name → {dtype, shape, data_offsets}}, then the data section.
 *
 * <p>The header is validated completely on open (as HuggingFace's reader does), so a bad file fails
 * at once with a message naming the file and tensor, never later or with a JVM crash: truncated file,
 * header length beyond the file, malformed JSON, duplicate names, unknown dtype, shape/byte-count
 * mismatch, offsets outside the data, overlapping tensors, gaps and trailing bytes.
 */
public final class SafetensorsFile implements WeightSource {

  /** HuggingFace refuses headers above 100 MB; so do we, before allocating anything. */
  static final long MAX_HEADER_BYTES = 100_000_000L;

  private static final ObjectMapper STRICT_JSON =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private final Path file;
  private final FileChannel channel;
  private final long dataStart;
  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;

  private SafetensorsFile(Path file, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
      Map<String, String> metadata) {
    this.file = file;
    this.channel = channel;
    this.dataStart = dataStart;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** Opens and validates a safetensors file. */
  public static SafetensorsFile open(Path file) throws IOException {
    FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
    try {
      long size = ch.size();
      if (size < 8) {
        throw new ModelFormatException(file + ": file too short to be safetensors (" + size + " bytes, need at least 8)");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0);
      long headerLen = lenBuf.getLong(0);
      if (headerLen < 2 || headerLen > MAX_HEADER_BYTES) {
        throw new ModelFormatException(file + ": header length " + Long.toUnsignedString(headerLen)
            + " is not plausible (file is " + size + " bytes; not a safetensors file?)");
      }
      if (8 + headerLen > size) {
        throw new ModelFormatException(file + ": header length " + headerLen + " goes beyond the end of the file ("
            + size + " bytes): the file is truncated or not safetensors");
      }
      ByteBuffer header = ByteBuffer.allocate((int) headerLen);
      readFully(ch, header, 8);
      long dataStart = 8 + headerLen;
      Map<String, String> metadata = new LinkedHashMap<>();
      Map<String, TensorInfo> tensors = parseHeader(file, header.array(), size - dataStart, dataStart, metadata);
      return new SafetensorsFile(file, ch, dataStart, tensors, metadata);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, position + buf.position());
      if (n < 0) {
        throw new java.io.EOFException("unexpected end of file");
      }
    }
  }

  private static Map<String, TensorInfo> parseHeader(
      Path file, byte[] header, long dataSize, long dataStart, Map<String, String> metadata) {
    JsonNode root;
    try {
      root = STRICT_JSON.readTree(new String(header, StandardCharsets.UTF_8).trim());
    } catch (IOException e) {
      String msg = e.getMessage();
      if (msg != null && msg.startsWith("Duplicate field")) {
        throw new ModelFormatException(file + ": duplicate tensor name in header: " + firstLine(msg), e);
      }
      throw new ModelFormatException(file + ": header is not valid JSON: " + firstLine(msg), e);
    }
    if (root == null || !root.isObject()) {
      throw new ModelFormatException(file + ": header is not a JSON object");
    }
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String name = e.getKey();
      JsonNode t = e.getValue();
      if (name.equals("__metadata__")) {
        t.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
        continue;
      }
      tensors.put(name, parseTensor(file, name, t, dataSize, dataStart));
    }
    checkLayout(file, tensors, dataSize, dataStart);
    return Collections.unmodifiableMap(tensors);
  }

  private static TensorInfo parseTensor(Path file, String name, JsonNode t, long dataSize, long dataStart) {
    String where = file + ": tensor '" + name + "'";
    if (!t.isObject() || !t.path("dtype").isTextual() || !t.path("shape").isArray()
        || !t.path("data_offsets").isArray() || t.path("data_offsets").size() != 2) {
      throw new ModelFormatException(where + " needs \"dtype\", \"shape\" and two \"data_offsets\"");
    }
    DType dtype = DType.parse(t.get("dtype").asText(), where);
    JsonNode shapeNode = t.get("shape");
    long[] shape = new long[shapeNode.size()];
    long numel = 1;
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = shapeNode.get(i);
      if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
        throw new ModelFormatException(where + " has an invalid shape " + shapeNode);
      }
      shape[i] = d.asLong();
      try {
        numel = Math.multiplyExact(numel, shape[i]);
      } catch (ArithmeticException overflow) {
        throw new ModelFormatException(where + " has a shape " + shapeNode + " whose element count overflows a"
            + " 64-bit integer (corrupt header)");
      }
    }
    JsonNode offs = t.get("data_offsets");
    if (!offs.get(0).isIntegralNumber() || !offs.get(1).isIntegralNumber() || !offs.get(0).canConvertToLong()
        || !offs.get(1).canConvertToLong()) {
      throw new ModelFormatException(where + " has non-integer data_offsets " + offs);
    }
    long begin = offs.get(0).asLong();
    long end = offs.get(1).asLong();
    if (begin < 0 || end < begin) {
      throw new ModelFormatException(where + " has invalid data_offsets [" + begin + ", " + end + "]");
    }
    if (end > dataSize) {
      throw new ModelFormatException(where + " has data_offsets [" + begin + ", " + end
          + "] outside the data section (" + dataSize + " bytes): the file is truncated or corrupt");
    }
    if (numel > Long.MAX_VALUE / dtype.byteSize()) {
      throw new ModelFormatException(where + ": shape " + java.util.Arrays.toString(shape) + " of " + dtype
          + " needs more than 2^63 bytes (corrupt header)");
    }
    long expected = numel * dtype.byteSize();
    if (end - begin != expected) {
      throw new ModelFormatException(where + ": shape " + java.util.Arrays.toString(shape) + " of " + dtype
          + " needs " + expected + " bytes but data_offsets [" + begin + ", " + end + "] hold " + (end - begin));
    }
    return new TensorInfo(name, dtype, shape, file, dataStart + begin, end - begin);
  }

  /** Tensors must tile the data section exactly: no overlap, no gap, nothing after the last one. */
  private static void checkLayout(Path file, Map<String, TensorInfo> tensors, long dataSize, long dataStart) {
    List<TensorInfo> sorted = new ArrayList<>(tensors.values());
    sorted.sort(Comparator.comparingLong(TensorInfo::offset).thenComparingLong(TensorInfo::byteLength));
    long expected = dataStart;
    TensorInfo previous = null;
    for (TensorInfo t : sorted) {
      if (t.offset() < expected) {
        throw new ModelFormatException(file + ": tensors '" + previous.name() + "' and '" + t.name()
            + "' overlap in the data section");
      }
      if (t.offset() > expected) {
        throw new ModelFormatException(file + ": " + (t.offset() - expected) + " unused bytes before tensor '"
            + t.name() + "' (offsets must be contiguous)");
      }
      expected = t.offset() + t.byteLength();
      previous = t;
    }
    if (expected - dataStart != dataSize) {
      throw new ModelFormatException(file + ": " + (dataSize - (expected - dataStart))
          + " bytes after the last tensor: the header does not describe the whole file");
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
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
    TensorInfo t = tensors.get(name);
    if (t == null) {
      throw new ModelFormatException(file + ": no tensor named '" + name + "'");
    }
    return t;
  }

  /** The {@code __metadata__} strings of the header. */
  public Map<String, String> metadata() {
    return Collections.unmodifiableMap(metadata);
  }

  /** A read-only little-endian view of the tensor's bytes in the memory-mapped file (no copy). */
  @Override
  public ByteBuffer bytes(String name) {
    TensorInfo t = info(name);
    if (t.byteLength() > Integer.MAX_VALUE) {
      throw new ModelFormatException(file + ": tensor '" + name + "' is " + t.byteLength()
          + " bytes, more than one buffer can map; read it in parts with bytes(name, from, length)");
    }
    return bytes(name, 0, t.byteLength());
  }

  /** A read-only view of {@code length} bytes of the tensor starting {@code from} bytes into it. */
  public ByteBuffer bytes(String name, long from, long length) {
    TensorInfo t = info(name);
    if (from < 0 || length < 0 || from + length > t.byteLength()) {
      throw new IndexOutOfBoundsException("bytes [" + from + ", " + (from + length) + ") of tensor '" + name
          + "' (" + t.byteLength() + " bytes)");
    }
    try {
      return channel.map(FileChannel.MapMode.READ_ONLY, t.offset() + from, length).order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot map tensor '" + name + "': " + e.getMessage(), e);
    }
  }

  long dataStart() {
    return dataStart;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
