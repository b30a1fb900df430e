package org.promptrecovery4j.recovery;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * A SHA-256 that changes when a model folder's files change, cheap enough to take on every run of a 1 GB model: over
 * every regular file under the folder (sorted by relative path; paths with a part starting with a dot, such
 * as {@code AtomicFiles}' temporary files or a {@code .cache} folder, are left out) it hashes the relative path, the size and the content, where
 * a file over {@value #WHOLE_FILE_LIMIT} bytes contributes three 1 MiB slices (start, middle, end) instead of its
 * whole content. Fingerprints are remembered per JVM while the folder's listing (paths, sizes, modification times)
 * stays the same.
 */
final class FolderFingerprint {

  static final long WHOLE_FILE_LIMIT = 32L << 20;
  private static final int SLICE = 1 << 20;
  private static final Map<String, String> MEMO = new ConcurrentHashMap<>();

  private FolderFingerprint() {}

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The fingerprint of {@code dir} (or of one file), 64 hex digits. */
  static String of(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      throw new FileNotFoundException(dir + ": no such model folder");
    }
    Path root = dir.toAbsolutePath().normalize();
    List<Path> files;
    if (Files.isRegularFile(root)) {
      files = List.of(root);
      root = root.getParent();
    } else {
      try (Stream<Path> s = Files.walk(root)) {
        Path r = root;
        files = s.filter(Files::isRegularFile)
            .filter(p -> java.util.stream.StreamSupport.stream(r.relativize(p).spliterator(), false)
                .noneMatch(part -> part.toString().startsWith(".")))
            .sorted().toList();
      }
    }
    StringBuilder listing = new StringBuilder(root.toString());
    for (Path f : files) {
      listing.append('\n').append(root.relativize(f)).append('\t').append(Files.size(f)).append('\t')
          .append(Files.getLastModifiedTime(f).toMillis());
    }
    String memoKey = listing.toString();
    String known = MEMO.get(memoKey);
    if (known != null) {
      return known;
    }
    MessageDigest d = sha256();
    for (Path f : files) {
      d.update(root.relativize(f).toString().replace('\\', '/').getBytes(StandardCharsets.UTF_8));
      long size = Files.size(f);
      d.update(ByteBuffer.allocate(9).put((byte) 0).putLong(size).array());
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
        if (size <= WHOLE_FILE_LIMIT) {
          update(d, ch, 0, size);
        } else {
          update(d, ch, 0, SLICE);
          update(d, ch, size / 2 - SLICE / 2, SLICE);
          update(d, ch, size - SLICE, SLICE);
        }
      }
    }
    String hex = HexFormat.of().formatHex(d.digest());
    MEMO.put(memoKey, hex);
    return hex;
  }

  private static void update(MessageDigest d, FileChannel ch, long from, long length) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(length, 1 << 16));
    long pos = from;
    long end = from + length;
    while (pos < end) {
      buf.clear();
      buf.limit((int) Math.min(buf.capacity(), end - pos));
      int n = ch.read(buf, pos);
      if (n < 0) {
        break;
      }
      buf.flip();
      d.update(buf);
      pos += n;
    }
  }
}
