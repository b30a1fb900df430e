package org.promptrecovery4j.weights;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Test helpers: hand-written pickles and torch-like zip archives for the error cases. */
final class TorchFiles {

  private TorchFiles() {}

  /** Writes pickle opcodes; every method appends one opcode (or a small fixed sequence). */
  static final class Pickle {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Pickle op(int... bytes) {
      for (int b : bytes) {
        out.write(b);
      }
      return this;
    }

    Pickle proto(int p) {
      return op(0x80, p);
    }

    Pickle str(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      op('X');
      out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
      out.writeBytes(b);
      return this;
    }

    Pickle integer(long v) {
      op('J');
      out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
      return this;
    }

    Pickle global(String module, String name) {
      op('c');
      out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
      return this;
    }

    Pickle mark() {
      return op('(');
    }

    Pickle tuple() {
      return op('t');
    }

    Pickle ints(long... values) {
      mark();
      for (long v : values) {
        integer(v);
      }
      return tuple();
    }

    /** {@code _rebuild_tensor_v2(('storage', torch.<storageClass>, key, 'cpu', numel), offset, size, stride, False, OrderedDict())}. */
    Pickle tensorV2(String storageClass, String key, long numel, long offset, long[] size, long[] stride) {
      global("torch._utils", "_rebuild_tensor_v2").mark();
      mark().str("storage").global("torch", storageClass).str(key).str("cpu").integer(numel).tuple().op('Q');
      integer(offset).ints(size).ints(stride).op(0x89);
      global("collections", "OrderedDict").op(')', 'R');
      return tuple().op('R');
    }

    /** A whole state dict {@code {name: tensor}} with one tensor. */
    static byte[] stateDict(String name, String storageClass, String key, long numel, long offset, long[] size,
        long[] stride) {
      return new Pickle().proto(2).op('}').mark().str(name).tensorV2(storageClass, key, numel, offset, size, stride)
          .op('u', '.').bytes();
    }

    byte[] bytes() {
      return out.toByteArray();
    }
  }

  /** A torch-like zip: {@code archive/data.pkl}, {@code archive/version}, and the given storages. */
  static Path zip(Path file, byte[] dataPkl, Map<String, byte[]> storages, boolean deflateStorages) throws IOException {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    if (dataPkl != null) {
      entries.put("archive/data.pkl", dataPkl);
    }
    entries.put("archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
    storages.forEach((k, v) -> entries.put("archive/data/" + k, v));
    entries.put("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
    return zipEntries(file, entries, deflateStorages);
  }

  static Path zipEntries(Path file, Map<String, byte[]> entries, boolean deflateStorages) throws IOException {
    try (OutputStream os = Files.newOutputStream(file); ZipOutputStream z = new ZipOutputStream(os)) {
      for (Map.Entry<String, byte[]> e : entries.entrySet()) {
        ZipEntry ze = new ZipEntry(e.getKey());
        if (deflateStorages && e.getKey().contains("/data/")) {
          ze.setMethod(ZipEntry.DEFLATED);
        } else {
          ze.setMethod(ZipEntry.STORED);
          ze.setSize(e.getValue().length);
          CRC32 crc = new CRC32();
          crc.update(e.getValue());
          ze.setCrc(crc.getValue());
        }
        z.putNextEntry(ze);
        z.write(e.getValue());
        z.closeEntry();
      }
    }
    return file;
  }

  static byte[] floats(float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return b.array();
  }

  /** A legacy-format file: magic, protocol, sys_info, {@code main}, the key list, then each storage blob. */
  static Path legacy(Path file, byte[] main, Map<String, byte[]> storages, long elementSize) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(java.util.HexFormat.of().parseHex("80028a0a6cfc9c46f9206aa850192e")); // 0x1950a86a20f9469cfc6c
    out.writeBytes(java.util.HexFormat.of().parseHex("80024de9032e")); // 1001
    out.writeBytes(new Pickle().proto(2).op('}').str("little_endian").op(0x88, 's', '.').bytes());
    out.writeBytes(main);
    Pickle keys = new Pickle().proto(2).mark();
    storages.keySet().forEach(keys::str);
    out.writeBytes(keys.op('l', '.').bytes());
    for (byte[] blob : storages.values()) {
      out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(blob.length / elementSize).array());
      out.writeBytes(blob);
    }
    return Files.write(file, out.toByteArray());
  }
}
