package org.promptrecovery4j.training.features;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.promptrecovery4j.core.AtomicFiles;

/**
 * The side file of finished feature rows ({@code OUTPUT.partial}): records of {@code int32 row} followed by
 * {@code width} float32 values, little-endian, appended batch by batch in the job's processing order and forced to
 * disk after each batch. A kill leaves whole batches and at most a torn end; {@link #resume} keeps the whole batches
 * (record {@code i} must be row {@code order[i]}) and cuts the rest, so a resumed run computes exactly the batches an
 * uninterrupted one would.
 */
final class PartialFeatures implements Closeable {

  private final Path file;
  private final int width;
  private final AtomicFiles.Appender appender;
  private long records;

  private PartialFeatures(Path file, int width, long keepRecords) throws IOException {
    this.file = file;
    this.width = width;
    this.appender = AtomicFiles.openAppender(file, keepRecords * recordBytes(width));
    this.records = keepRecords;
  }

  static long recordBytes(int width) {
    return 4L + 4L * width;
  }

  /**
   * Opens (or starts) the side file for a job whose rows are processed in {@code order} in batches of
   * {@code batchSize}: the whole batches already in it are kept, anything after them cut.
   */
  static PartialFeatures resume(Path file, int width, int[] order, int batchSize) throws IOException {
    long complete = Files.exists(file) ? Files.size(file) / recordBytes(width) : 0;
    if (complete > order.length) {
      throw new IllegalArgumentException(file + ": holds " + complete + " rows, the input has " + order.length
          + ": it does not belong to this run; delete it (and its .json) to start over");
    }
    long keep = complete == order.length ? complete : complete / batchSize * batchSize;
    checkRows(file, width, order, (int) keep);
    return new PartialFeatures(file, width, keep);
  }

  /** Every record kept names the row the processing order puts there. */
  private static void checkRows(Path file, int width, int[] order, int records) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < records; i++) {
        b.clear();
        readFully(ch, b, i * recordBytes(width));
        int row = b.getInt(0);
        if (row != order[i]) {
          throw new IllegalArgumentException(file + ": record " + i + " is row " + row + ", this run puts row "
              + order[i] + " there: the file does not belong to this run; delete it (and its .json) to start over");
        }
      }
    } catch (java.nio.file.NoSuchFileException e) {
      // nothing yet
    }
  }

  /** Rows already in the file (whole batches). */
  long records() {
    return records;
  }

  /** Appends one finished batch (rows and their features) and forces it to disk. */
  void append(int[] rows, float[][] features) throws IOException {
    ByteBuffer b = ByteBuffer.allocate((int) (rows.length * recordBytes(width))).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < rows.length; i++) {
      if (features[i].length != width) {
        throw new IllegalStateException("row " + rows[i] + " has " + features[i].length + " values, expected " + width);
      }
      b.putInt(rows[i]);
      for (float f : features[i]) {
        b.putFloat(f);
      }
    }
    appender.append(b.array());
    records += rows.length;
  }

  /** The features of each row, read back: {@code positions[row]} = its record; for writing the final array. */
  static long[] positions(int[] order, int rows) {
    long[] pos = new long[rows];
    for (int i = 0; i < order.length; i++) {
      pos[order[i]] = i;
    }
    return pos;
  }

  /** Record {@code i}'s features. */
  static float[] read(FileChannel ch, int width, long record) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(4 * width).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, b, record * recordBytes(width) + 4);
    float[] f = new float[width];
    b.flip();
    b.asFloatBuffer().get(f);
    return f;
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
    long p = position;
    while (b.hasRemaining()) {
      int n = ch.read(b, p);
      if (n < 0) {
        throw new java.io.EOFException("unexpected end of the side file at byte " + p);
      }
      p += n;
    }
  }

  Path file() {
    return file;
  }

  @Override
  public void close() throws IOException {
    appender.close();
  }
}
