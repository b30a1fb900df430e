package org.promptrecovery4j.core;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Writes numpy {@code .npy} files (format 1.0, little-endian float32, C order), readable by numpy.load. */
public final class Npy {

  private Npy() {}

  /** Writes {@code rows} (all the same length) as a float32 array of shape [rows, cols], atomically. */
  public static void writeFloat32(Path file, float[][] rows) throws IOException {
    int cols = rows.length == 0 ? 0 : rows[0].length;
    for (int r = 0; r < rows.length; r++) {
      if (rows[r].length != cols) {
        throw new IllegalArgumentException("row " + r + " has " + rows[r].length + " values, row 0 has " + cols);
      }
    }
    AtomicFiles.write(
        file,
        out -> {
          writeHeader(out, "<f4", new long[] {rows.length, cols});
          ByteBuffer buf = ByteBuffer.allocate(cols * 4).order(ByteOrder.LITTLE_ENDIAN);
          for (float[] row : rows) {
            buf.clear();
            buf.asFloatBuffer().put(row);
            out.write(buf.array(), 0, cols * 4);
          }
        });
  }

  /** One row of an array written piece by piece (see {@link #writeFloat32(Path, long, int, RowSource)}). */
  @FunctionalInterface
  public interface RowSource {
    float[] row(long r) throws IOException;
  }

  /**
   * Writes a float32 array of shape [rows, cols] atomically, asking {@code source} for each row in order, so that an
   * array larger than memory can be written (e.g. from a file of finished rows).
   */
  public static void writeFloat32(Path file, long rows, int cols, RowSource source) throws IOException {
    AtomicFiles.write(
        file,
        out -> {
          writeHeader(out, "<f4", new long[] {rows, cols});
          ByteBuffer buf = ByteBuffer.allocate(cols * 4).order(ByteOrder.LITTLE_ENDIAN);
          for (long r = 0; r < rows; r++) {
            float[] row = source.row(r);
            if (row.length != cols) {
              throw new IllegalArgumentException("row " + r + " has " + row.length + " values, expected " + cols);
            }
            buf.clear();
            buf.asFloatBuffer().put(row);
            out.write(buf.array(), 0, cols * 4);
          }
        });
  }

  static void writeHeader(OutputStream out, String descr, long[] shape) throws IOException {
    StringBuilder s = new StringBuilder("{'descr': '").append(descr).append("', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < shape.length; i++) {
      s.append(shape[i]).append(shape.length == 1 ? "," : (i < shape.length - 1 ? ", " : ""));
    }
    s.append("), }");
    // magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n
    int unpadded = 10 + s.length() + 1;
    int pad = (64 - unpadded % 64) % 64;
    s.append(" ".repeat(pad)).append('\n');
    byte[] header = s.toString().getBytes(StandardCharsets.US_ASCII);
    out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    out.write(header.length & 0xff);
    out.write((header.length >> 8) & 0xff);
    out.write(header);
  }
}
