package org.promptrecovery4j.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads numpy {@code .npy} matrices (what {@code numpy.save} and {@link Npy#writeFloat32} write): a 2-D array of
 * little-endian float32 ({@code <f4}) or float64 ({@code <f8}, rounded to float32 as {@code .astype(np.float32)}
 * does), C order, format version 1, 2 or 3.
 *
 * <p>Everything is checked against the file before anything is allocated: the header length, the dtype and order,
 * the shape (2-D, each dimension within int range) and that shape × dtype size equals the bytes that follow the
 * header. Errors are {@link IllegalArgumentException}s naming the file.
 */
public final class NpyReader {

  /** A longer header than numpy ever writes for a 2-D array is refused (numpy's own limit is 10 000 bytes). */
  private static final int MAX_HEADER_BYTES = 1 << 16;

  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  private NpyReader() {}

  /** The float32 matrix stored in {@code file}, one Java array a row. */
  public static float[][] readFloat32(Path file) throws IOException {
    if (!java.nio.file.Files.isRegularFile(file)) {
      throw new java.io.FileNotFoundException(file + ": no such file");
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      ByteBuffer pre = read(ch, 0, (int) Math.min(12, size));
      if (size < 10 || pre.get(0) != (byte) 0x93 || pre.get(1) != 'N' || pre.get(2) != 'U' || pre.get(3) != 'M'
          || pre.get(4) != 'P' || pre.get(5) != 'Y') {
        throw bad(file, "not a .npy file (no \\x93NUMPY magic)");
      }
      int major = pre.get(6);
      long headerLen;
      int prefix;
      if (major == 1) {
        headerLen = Short.toUnsignedInt(pre.order(ByteOrder.LITTLE_ENDIAN).getShort(8));
        prefix = 10;
      } else if (major == 2 || major == 3) {
        if (size < 12) {
          throw bad(file, "truncated header");
        }
        headerLen = Integer.toUnsignedLong(pre.order(ByteOrder.LITTLE_ENDIAN).getInt(8));
        prefix = 12;
      } else {
        throw bad(file, "unsupported .npy format version " + major);
      }
      if (headerLen > MAX_HEADER_BYTES || prefix + headerLen > size) {
        throw bad(file, "header of " + headerLen + " bytes does not fit the file of " + size + " bytes");
      }
      String header = StandardCharsets.ISO_8859_1.decode(read(ch, prefix, (int) headerLen)).toString();
      int itemSize = itemSize(file, header);
      long[] shape = shape(file, header);
      long dataStart = prefix + headerLen;
      if (shape[1] == 0) {
        throw bad(file, "shape (" + shape[0] + ", 0) has no columns");
      }
      if ((size - dataStart) / itemSize / shape[1] < shape[0] || shape[1] * itemSize > Integer.MAX_VALUE - 8) {
        throw bad(file, "shape (" + shape[0] + ", " + shape[1] + ") needs more data than the file's "
            + (size - dataStart) + " bytes after the header, or rows above 2 GB");
      }
      long expected = shape[0] * shape[1] * itemSize; // ≤ the file size after the check above
      if (size - dataStart != expected) {
        throw bad(file, "shape (" + shape[0] + ", " + shape[1] + ") of " + (itemSize == 4 ? "float32" : "float64")
            + " needs " + expected + " bytes of data, the file has " + (size - dataStart));
      }
      return values(ch, dataStart, (int) shape[0], (int) shape[1], itemSize);
    }
  }

  private static int itemSize(Path file, String header) {
    Matcher d = DESCR.matcher(header);
    Matcher f = FORTRAN.matcher(header);
    if (!d.find() || !f.find()) {
      throw bad(file, "header without 'descr' or 'fortran_order': " + header.strip());
    }
    if (f.group(1).equals("True")) {
      throw bad(file, "Fortran-order arrays are not supported (save with np.ascontiguousarray)");
    }
    switch (d.group(1)) {
      case "<f4":
        return 4;
      case "<f8":
        return 8;
      default:
        throw bad(file, "dtype '" + d.group(1) + "' is not supported (expected float32 '<f4' or float64 '<f8')");
    }
  }

  private static long[] shape(Path file, String header) {
    Matcher s = SHAPE.matcher(header);
    if (!s.find()) {
      throw bad(file, "header without 'shape': " + header.strip());
    }
    String[] parts = s.group(1).split(",");
    int n = 0;
    long[] dims = new long[2];
    for (String p : parts) {
      if (p.isBlank()) {
        continue;
      }
      if (n == 2) {
        throw bad(file, "expected a 2-D array [rows, columns], found shape (" + s.group(1) + ")");
      }
      try {
        dims[n++] = Long.parseLong(p.strip());
      } catch (NumberFormatException e) {
        throw bad(file, "shape (" + s.group(1) + ") is not a list of integers");
      }
    }
    if (n != 2) {
      throw bad(file, "expected a 2-D array [rows, columns], found shape (" + s.group(1) + ")");
    }
    for (long d : dims) {
      if (d < 0 || d > Integer.MAX_VALUE - 8) {
        throw bad(file, "shape (" + s.group(1) + ") has a dimension outside [0, 2^31)");
      }
    }
    return dims;
  }

  private static float[][] values(FileChannel ch, long start, int rows, int cols, int itemSize) throws IOException {
    float[][] out = new float[rows][cols];
    long rowBytes = (long) cols * itemSize;
    int rowsPerRead = (int) Math.max(1, Math.min(rows, (1 << 24) / Math.max(1, rowBytes)));
    for (int r = 0; r < rows; r += rowsPerRead) {
      int n = Math.min(rowsPerRead, rows - r);
      ByteBuffer b = read(ch, start + r * rowBytes, Math.toIntExact(n * rowBytes)).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < n; i++) {
        if (itemSize == 4) {
          b.asFloatBuffer().position(i * cols).get(out[r + i]);
        } else {
          for (int c = 0; c < cols; c++) {
            out[r + i][c] = (float) b.getDouble((i * cols + c) * 8);
          }
        }
      }
    }
    return out;
  }

  private static ByteBuffer read(FileChannel ch, long position, int length) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(length);
    while (b.hasRemaining()) {
      if (ch.read(b, position + b.position()) < 0) {
        throw new java.io.EOFException("unexpected end of file");
      }
    }
    return b.flip();
  }

  private static IllegalArgumentException bad(Path file, String why) {
    return new IllegalArgumentException(file + ": " + why);
  }
}
