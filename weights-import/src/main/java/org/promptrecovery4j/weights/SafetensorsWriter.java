package org.promptrecovery4j.weights;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.promptrecovery4j.core.AtomicFiles;
import org.promptrecovery4j.core.Progress;

/** Writes safetensors files (header padded to 8 bytes, as HuggingFace does), atomically. */
public final class SafetensorsWriter {

  private SafetensorsWriter() {}

  /**
   * Copies the named tensors of {@code source} unchanged (same dtype and bytes) into {@code output}; the metadata
   * keys are written sorted.
   */
  public static void write(Path output, WeightSource source, List<String> names, Map<String, String> metadata)
      throws IOException {
    ObjectMapper mapper = new ObjectMapper();
    ObjectNode header = mapper.createObjectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode meta = header.putObject("__metadata__");
      // keys sorted: Map.of iterates in an order salted per JVM, and a file must be byte-equal from run to run
      new java.util.TreeMap<>(metadata).forEach(meta::put);
    }
    long offset = 0;
    long total = 0;
    for (String name : names) {
      TensorInfo t = source.info(name);
      ObjectNode n = header.putObject(name);
      n.put("dtype", t.dtype().name());
      ArrayNode shape = n.putArray("shape");
      for (long s : t.shape()) {
        shape.add(s);
      }
      ArrayNode offs = n.putArray("data_offsets");
      offs.add(offset);
      offs.add(offset + t.byteLength());
      offset += t.byteLength();
      total += t.byteLength();
    }
    byte[] json = mapper.writeValueAsBytes(header);
    int padded = (json.length + 7) / 8 * 8;
    byte[] headerBytes = new byte[padded];
    System.arraycopy(json, 0, headerBytes, 0, json.length);
    java.util.Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
    long totalBytes = total;
    AtomicFiles.write(output, out -> {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, padded);
      out.write(len.array());
      out.write(headerBytes);
      WritableByteChannel ch = Channels.newChannel(out);
      try (Progress progress = Progress.start("Writing " + output.getFileName(), totalBytes, Progress.Unit.BYTES)) {
        for (String name : names) {
          TensorInfo t = source.info(name);
          long chunk = 1L << 28;
          for (long from = 0; from < t.byteLength(); from += chunk) {
            long n = Math.min(chunk, t.byteLength() - from);
            ByteBuffer b = source.bytes(name, from, n);
            while (b.hasRemaining()) {
              ch.write(b);
            }
            progress.advance(n);
          }
        }
      }
    });
  }

  /** Writes all tensors of {@code source}, with {@code {"format": "pt"}} metadata as transformers does. */
  public static void write(Path output, WeightSource source) throws IOException {
    write(output, source, source.names(), Map.of("format", "pt"));
  }
}
