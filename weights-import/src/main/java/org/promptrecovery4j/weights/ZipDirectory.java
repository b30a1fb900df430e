package org.promptrecovery4j.weights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The central directory of a zip archive (zip64 included), read directly so that each entry's data
 * offset in the file is known: PyTorch stores tensor storages uncompressed, so they can be mapped in
 * place. Every offset and size is checked against the file before it is used.
 */
final class ZipDirectory {

  static final int STORED = 0;
  static final int DEFLATED = 8;

  /** One entry: its compressed bytes are {@code [dataOffset, dataOffset + compressedSize)} of the file. */
  record Entry(String name, int method, int flags, long crc, long compressedSize, long size, long dataOffset) {}

  private static final int EOCD_SIG = 0x06054b50;
  private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
  private static final int ZIP64_EOCD_SIG = 0x06064b50;
  private static final int CEN_SIG = 0x02014b50;
  private static final int LOC_SIG = 0x04034b50;
  /** Central directories above this size are refused before anything is allocated. */
  private static final long MAX_DIRECTORY_BYTES = 1L << 28;

  private final Path file;
  private final Map<String, Entry> entries;

  private ZipDirectory(Path file, Map<String, Entry> entries) {
    this.file = file;
    this.entries = entries;
  }

  Map<String, Entry> entries() {
    return entries;
  }

  /** Reads and checks the central directory and every entry's local header. */
  static ZipDirectory read(Path file, FileChannel ch) throws IOException {
    long size = ch.size();
    if (size < 22) {
      throw new ModelFormatException(file + ": " + size + " bytes, too short to be a zip archive (truncated?)");
    }
    int tailLen = (int) Math.min(size, 22 + 65535);
    ByteBuffer tail = read(ch, size - tailLen, tailLen);
    int eocd = -1;
    for (int i = tailLen - 22; i >= 0; i--) {
      if (tail.getInt(i) == EOCD_SIG) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) {
      throw new ModelFormatException(file + ": no zip end-of-central-directory record: the file is truncated"
          + " or not a zip archive");
    }
    long eocdPos = size - tailLen + eocd;
    long count = tail.getShort(eocd + 10) & 0xffff;
    long dirSize = tail.getInt(eocd + 12) & 0xffffffffL;
    long dirOffset = tail.getInt(eocd + 16) & 0xffffffffL;
    long dirEnd = eocdPos;
    if (count == 0xffff || dirSize == 0xffffffffL || dirOffset == 0xffffffffL) {
      if (eocdPos < 20) {
        throw new ModelFormatException(file + ": zip64 archive without a zip64 locator (corrupt)");
      }
      ByteBuffer loc = read(ch, eocdPos - 20, 20);
      if (loc.getInt(0) != ZIP64_LOCATOR_SIG) {
        throw new ModelFormatException(file + ": zip64 archive without a zip64 locator (corrupt)");
      }
      long z64 = loc.getLong(8);
      if (z64 < 0 || z64 > eocdPos - 20 - 56) {
        throw new ModelFormatException(file + ": zip64 end record offset " + z64 + " is outside the file (corrupt)");
      }
      ByteBuffer rec = read(ch, z64, 56);
      if (rec.getInt(0) != ZIP64_EOCD_SIG) {
        throw new ModelFormatException(file + ": bad zip64 end record signature (corrupt)");
      }
      count = rec.getLong(32);
      dirSize = rec.getLong(40);
      dirOffset = rec.getLong(48);
      dirEnd = z64;
    }
    if (dirSize < 0 || dirOffset < 0 || dirSize > MAX_DIRECTORY_BYTES || dirOffset > dirEnd - dirSize
        || count < 0 || count > dirSize / 46) {
      throw new ModelFormatException(file + ": zip central directory (" + count + " entries, " + dirSize
          + " bytes at " + dirOffset + ") does not fit in the file: truncated or corrupt");
    }
    ByteBuffer dir = read(ch, dirOffset, (int) dirSize);
    Map<String, Entry> entries = new LinkedHashMap<>();
    int p = 0;
    for (long n = 0; n < count; n++) {
      if (p + 46 > dirSize || dir.getInt(p) != CEN_SIG) {
        throw new ModelFormatException(file + ": zip central directory entry " + n + " is corrupt");
      }
      int flags = dir.getShort(p + 8) & 0xffff;
      int method = dir.getShort(p + 10) & 0xffff;
      long crc = dir.getInt(p + 16) & 0xffffffffL;
      long csize = dir.getInt(p + 20) & 0xffffffffL;
      long usize = dir.getInt(p + 24) & 0xffffffffL;
      int nameLen = dir.getShort(p + 28) & 0xffff;
      int extraLen = dir.getShort(p + 30) & 0xffff;
      int commentLen = dir.getShort(p + 32) & 0xffff;
      long localOffset = dir.getInt(p + 42) & 0xffffffffL;
      if (p + 46L + nameLen + extraLen + commentLen > dirSize) {
        throw new ModelFormatException(file + ": zip central directory entry " + n + " is corrupt");
      }
      byte[] nameBytes = new byte[nameLen];
      dir.get(p + 46, nameBytes);
      String name = new String(nameBytes, StandardCharsets.UTF_8);
      // zip64 extended information: the 8-byte values of the fields that are 0xffffffff, in this order
      int e = p + 46 + nameLen;
      int extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        int id = dir.getShort(e) & 0xffff;
        int len = dir.getShort(e + 2) & 0xffff;
        if (e + 4 + len > extraEnd) {
          break;
        }
        if (id == 0x0001) {
          int q = e + 4;
          if (usize == 0xffffffffL && q + 8 <= e + 4 + len) {
            usize = dir.getLong(q);
            q += 8;
          }
          if (csize == 0xffffffffL && q + 8 <= e + 4 + len) {
            csize = dir.getLong(q);
            q += 8;
          }
          if (localOffset == 0xffffffffL && q + 8 <= e + 4 + len) {
            localOffset = dir.getLong(q);
          }
        }
        e += 4 + len;
      }
      p += 46 + nameLen + extraLen + commentLen;
      if (csize < 0 || usize < 0 || localOffset < 0 || localOffset > dirOffset - 30) {
        throw new ModelFormatException(file + ": zip entry '" + name + "' has a local header offset "
            + localOffset + " outside the file's data (truncated or corrupt)");
      }
      ByteBuffer local = read(ch, localOffset, 30);
      if (local.getInt(0) != LOC_SIG) {
        throw new ModelFormatException(file + ": zip entry '" + name + "' has no local header at offset "
            + localOffset + " (corrupt)");
      }
      long dataOffset = localOffset + 30 + (local.getShort(26) & 0xffff) + (local.getShort(28) & 0xffff);
      if (csize > dirOffset - dataOffset) {
        throw new ModelFormatException(file + ": zip entry '" + name + "' (" + csize + " bytes at " + dataOffset
            + ") goes beyond the archive's data (truncated or corrupt)");
      }
      if (entries.put(name, new Entry(name, method, flags, crc, csize, usize, dataOffset)) != null) {
        throw new ModelFormatException(file + ": zip entry '" + name + "' appears twice");
      }
    }
    return new ZipDirectory(file, Collections.unmodifiableMap(entries));
  }

  /** The whole (uncompressed) content of a small entry, checked against its CRC. */
  byte[] readEntry(FileChannel ch, Entry e) throws IOException {
    if (e.size() > Integer.MAX_VALUE - 8) {
      throw new ModelFormatException(file + ": zip entry '" + e.name() + "' is too large to read into memory ("
          + e.size() + " bytes)");
    }
    if ((e.flags() & 1) != 0) {
      throw new ModelFormatException(file + ": zip entry '" + e.name() + "' is encrypted");
    }
    byte[] out;
    if (e.method() == STORED) {
      if (e.compressedSize() != e.size()) {
        throw new ModelFormatException(file + ": stored zip entry '" + e.name() + "' has different sizes");
      }
      ByteBuffer b = read(ch, e.dataOffset(), (int) e.size());
      out = new byte[(int) e.size()];
      b.get(0, out);
    } else if (e.method() == DEFLATED) {
      if (e.compressedSize() > Integer.MAX_VALUE - 8) {
        throw new ModelFormatException(file + ": zip entry '" + e.name() + "' is too large to read into memory");
      }
      // deflate expands at most ~1032:1; a larger claim is a corrupt or hostile header, refused before allocating
      if (e.size() > e.compressedSize() * 1100 + 1024) {
        throw new ModelFormatException(file + ": zip entry '" + e.name() + "' claims " + e.size()
            + " bytes from " + e.compressedSize() + " compressed bytes (corrupt)");
      }
      ByteBuffer b = read(ch, e.dataOffset(), (int) e.compressedSize());
      byte[] packed = new byte[(int) e.compressedSize()];
      b.get(0, packed);
      out = new byte[(int) e.size()];
      Inflater inf = new Inflater(true);
      try {
        inf.setInput(packed);
        int n = 0;
        while (n < out.length) {
          int k = inf.inflate(out, n, out.length - n);
          if (k == 0 && (inf.finished() || inf.needsInput() || inf.needsDictionary())) {
            break;
          }
          n += k;
        }
        if (n != out.length) {
          throw new ModelFormatException(file + ": zip entry '" + e.name() + "' inflates to " + n
              + " bytes, its header says " + out.length + " (corrupt)");
        }
      } catch (DataFormatException ex) {
        throw new ModelFormatException(file + ": zip entry '" + e.name() + "' is corrupt: " + ex.getMessage(), ex);
      } finally {
        inf.end();
      }
    } else {
      throw new ModelFormatException(file + ": zip entry '" + e.name() + "' uses compression method " + e.method()
          + " (only stored and deflated are supported)");
    }
    CRC32 crc = new CRC32();
    crc.update(out);
    if (crc.getValue() != e.crc()) {
      throw new ModelFormatException(file + ": zip entry '" + e.name() + "' fails its CRC check (corrupt)");
    }
    return out;
  }

  static ByteBuffer read(FileChannel ch, long position, int length) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    while (buf.hasRemaining()) {
      int n = ch.read(buf, position + buf.position());
      if (n < 0) {
        throw new java.io.EOFException("unexpected end of file");
      }
    }
    return buf.clear();
  }
}
