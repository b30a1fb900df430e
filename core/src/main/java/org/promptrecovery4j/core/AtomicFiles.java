package org.promptrecovery4j.core;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The one way this project writes an output file: a failure (an exception, a process killed with SIGKILL, and as
 * far as the file system honours fsync a machine crash) leaves the target either as it was before or complete with
 * the new content, never half-written.
 *
 * <p>How: the content goes to a temporary file {@code .NAME.RANDOM.tmp} in the target's folder (the same file
 * system, so the rename is atomic). Once complete it is flushed and forced to disk ({@link FileChannel#force}),
 * moved over the target with {@link StandardCopyOption#ATOMIC_MOVE}, and the folder is forced too (best effort: not
 * every platform can open a folder) so that the rename itself survives a crash. The temporary file is created with
 * the default permissions (umask), so the target gets the permissions an ordinary write would give it.
 *
 * <p>Stale temporary files: a process killed mid-write leaves its {@code .NAME.*.tmp} behind. They are <b>left
 * alone</b>, on purpose: a later write of the same target picks a fresh unique name and never reads them, nothing in
 * the project lists a folder in a way that matches them (they start with a dot and end in {@code .tmp}), and
 * deleting them when a write starts could delete the temporary file of another process writing the same target at
 * that moment. Remove them by hand ({@code rm .NAME.*.tmp}) when no writer is running.
 *
 * <p>Whole content from one callback: {@link #write}. Content produced piece by piece in the caller's own loop (rows
 * as they come): {@link #open}, write to {@link Pending#stream()}, then {@link Pending#commit()}; closing without a
 * commit discards everything. Resumable work that keeps its finished pieces in a side file as it goes (and knows
 * how to read back only whole pieces): {@link #openAppender}.
 *
 * <p>Test hook (never set outside tests): with the system property {@value #PAUSE_AFTER_BYTES_PROPERTY} = N, a write
 * stops once N bytes of content have reached it (or at the commit, if the content is shorter): it flushes those
 * bytes to the temporary file, creates the file named by {@value #PAUSE_MARKER_PROPERTY} (when set) and sleeps, so
 * that a test can kill the process at a known point mid-write.
 */
public final class AtomicFiles {

  /** Test hook: pause a write after this many bytes (see the class comment). */
  public static final String PAUSE_AFTER_BYTES_PROPERTY = "pr4j.test.atomicFiles.pauseAfterBytes";

  /** Test hook: the file created when a write pauses. */
  public static final String PAUSE_MARKER_PROPERTY = "pr4j.test.atomicFiles.pauseMarker";

  /** Something that writes the whole content to a stream. */
  @FunctionalInterface
  public interface Writer {
    void write(OutputStream out) throws IOException;
  }

  private AtomicFiles() {}

  /** Writes {@code target} atomically with the content {@code writer} gives. */
  public static void write(Path target, Writer writer) throws IOException {
    try (Pending p = open(target)) {
      writer.write(p.stream());
      p.commit();
    }
  }

  /** {@link #write} for callers that cannot throw checked exceptions. */
  public static void writeUnchecked(Path target, Writer writer) {
    try {
      write(target, writer);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
    }
  }

  /** A new empty folder beside {@code target} ({@code .NAME.RANDOM}) to write a folder's files into before {@link #publishFolder}. */
  public static Path stagingFolder(Path target) throws IOException {
    Path parent = target.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    return Files.createTempDirectory(parent, "." + target.getFileName() + ".");
  }

  /** Deletes a staging folder and everything in it (nothing if it was published or never made). */
  public static void discardFolder(Path staging) throws IOException {
    if (staging == null || !Files.exists(staging)) {
      return;
    }
    try (java.util.stream.Stream<Path> walk = Files.walk(staging)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * Publishes a whole folder: {@code staging}, complete (its files written with {@link #write}), is renamed to
   * {@code target} atomically, so that a reader sees either no {@code target} or all of it. {@code staging} must sit
   * beside {@code target} (one file system). Returns false, leaving {@code staging} in place for the caller to delete,
   * when {@code target} already exists (another process published it first); an existing folder is never replaced.
   */
  public static boolean publishFolder(Path staging, Path target) throws IOException {
    try {
      Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
      return false;
    } catch (java.nio.file.AtomicMoveNotSupportedException e) {
      throw new IOException(target.getParent() + ": the file system cannot rename a folder atomically", e);
    }
    Path parent = target.toAbsolutePath().getParent();
    try (FileChannel d = FileChannel.open(parent, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // best effort, as for files
    }
    return true;
  }

  /**
   * Replaces the folder {@code target} (if any) with {@code staging}, complete, as a folder written again and again
   * (a trainer's best model): the old folder is renamed aside to {@code .NAME.old.RANDOM}, {@code staging} is renamed
   * to {@code target}, then the old folder is deleted. A reader sees the old folder or the new one, never a mix of
   * both; only in the instant between the two renames (or after a kill there) is there no {@code target}, the old
   * content then lying whole in {@code .NAME.old.*}. {@code staging} (from {@link #stagingFolder}) must sit beside
   * {@code target}. Without an existing {@code target} this is {@link #publishFolder}.
   */
  public static void replaceFolder(Path staging, Path target) throws IOException {
    if (!Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      if (publishFolder(staging, target)) {
        return;
      }
    }
    if (!Files.isDirectory(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(target + ": exists and is not a folder; not replacing it");
    }
    Path parent = target.toAbsolutePath().getParent();
    Path aside;
    while (true) {
      aside = parent.resolve("." + target.getFileName() + ".old." + Long.toUnsignedString(ThreadLocalRandom.current().nextLong()));
      if (!Files.exists(aside, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        break;
      }
    }
    try {
      Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
    } catch (java.nio.file.AtomicMoveNotSupportedException e) {
      throw new IOException(parent + ": the file system cannot rename a folder atomically", e);
    }
    if (!publishFolder(staging, target)) {
      throw new IOException(target + ": created by someone else while it was being replaced; the previous folder is "
          + aside + ", the new one " + staging);
    }
    discardFolder(aside);
  }

  /**
   * Starts an atomic write of {@code target}: write the content to {@link Pending#stream()} as it comes, then
   * {@link Pending#commit()}. Use in try-with-resources: closing without a commit deletes the temporary file and
   * leaves the target untouched.
   */
  public static Pending open(Path target) throws IOException {
    return new Pending(target);
  }

  /**
   * Opens {@code file} for appending the finished pieces of resumable work (the {@code .partial} file of a long
   * job), keeping its first {@code keepBytes} bytes and cutting whatever follows them (the torn end a kill
   * mid-append leaves). Unlike the other writes this one is not all-or-nothing: a kill leaves a prefix of what was
   * appended, so the caller appends whole records, reads back only whole records, and says how many bytes of them to
   * keep when it reopens. Each {@link Appender#append} is forced to disk before it returns.
   */
  public static Appender openAppender(Path file, long keepBytes) throws IOException {
    return new Appender(file, keepBytes);
  }

  /** An append-only file of whole records (see {@link #openAppender}). */
  public static final class Appender implements Closeable {
    private final Path file;
    private final FileChannel channel;

    private Appender(Path file, long keepBytes) throws IOException {
      this.file = file;
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      if (keepBytes < 0 || keepBytes > channel.size()) {
        channel.close();
        throw new IOException(file + ": cannot keep " + keepBytes + " bytes of a file of " + Files.size(file));
      }
      channel.truncate(keepBytes);
      channel.position(keepBytes);
      channel.force(true);
    }

    /** Appends {@code bytes} whole and forces them to disk. */
    public void append(byte[] bytes) throws IOException {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) {
        channel.write(b);
      }
      channel.force(false);
    }

    /** The file's length in bytes. */
    public long size() throws IOException {
      return channel.size();
    }

    public Path file() {
      return file;
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }

  /** An atomic write in progress: content goes to a temporary file until {@link #commit()}. */
  public static final class Pending implements Closeable {
    private final Path target;
    private final Path dir;
    private final Path tmp;
    private final FileChannel channel;
    private final BufferedOutputStream buffered;
    private final ContentStream stream;
    private boolean committed;
    private boolean closed;

    private Pending(Path target) throws IOException {
      this.target = target.toAbsolutePath();
      this.dir = this.target.getParent();
      if (dir != null) {
        Files.createDirectories(dir);
      }
      Path folder = dir != null ? dir : this.target.getFileSystem().getPath("").toAbsolutePath();
      String prefix = "." + this.target.getFileName() + ".";
      Path t;
      FileChannel ch;
      while (true) {
        t = folder.resolve(prefix + Long.toUnsignedString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        try {
          ch = FileChannel.open(t, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
          break;
        } catch (FileAlreadyExistsException e) {
          // a name taken (by a stale file of a killed run, say): draw another
        }
      }
      this.tmp = t;
      this.channel = ch;
      this.buffered = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
      this.stream = new ContentStream();
    }

    /** The target this write replaces. */
    public Path target() {
      return target;
    }

    /** The temporary file the content goes to until the commit. */
    public Path temporaryFile() {
      return tmp;
    }

    /**
     * Where the content goes (buffered). Closing it only flushes it: the file is finished by {@link #commit()}
     * or discarded by {@link #close()}, so it may be wrapped in writers that close their stream.
     */
    public OutputStream stream() {
      return stream;
    }

    /** Forces the complete content to disk and moves it over the target; after this the target holds it. */
    public void commit() throws IOException {
      if (committed || closed) {
        throw new IllegalStateException("the write of " + target + " is already " + (committed ? "committed" : "closed"));
      }
      buffered.flush();
      stream.pauseAtCommit();
      channel.force(true);
      channel.close();
      try {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      committed = true;
      forceDirectory();
    }

    /** Ends the write: without a {@link #commit()} the temporary file is deleted and the target left as it was. */
    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      if (!committed) {
        try {
          channel.close();
        } finally {
          Files.deleteIfExists(tmp);
        }
      }
    }

    /** Makes the rename durable: fsync of the folder, where the platform allows opening one. */
    private void forceDirectory() {
      if (dir == null) {
        return;
      }
      try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
        d.force(true);
      } catch (IOException | UnsupportedOperationException e) {
        // best effort (e.g. Windows cannot open a folder); the file itself is already on disk
      }
    }

    /** The stream handed out: counts bytes for the test hook, and close() only flushes. */
    private final class ContentStream extends OutputStream {
      private final long pauseAfter = Long.getLong(PAUSE_AFTER_BYTES_PROPERTY, -1L);
      private long written;

      @Override
      public void write(int b) throws IOException {
        if (pauseAfter >= 0 && written >= pauseAfter) {
          pause();
        }
        buffered.write(b);
        written++;
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (pauseAfter >= 0 && written + len >= pauseAfter && len > 0) {
          int first = (int) (pauseAfter - written);
          buffered.write(b, off, first);
          written += first;
          pause();
        }
        buffered.write(b, off, len);
        written += len;
      }

      @Override
      public void flush() throws IOException {
        buffered.flush();
      }

      @Override
      public void close() throws IOException {
        buffered.flush();
      }

      void pauseAtCommit() throws IOException {
        if (pauseAfter >= 0) {
          pause();
        }
      }

      /** The test hook: flush what was written, say so, and wait to be killed. */
      private void pause() throws IOException {
        buffered.flush();
        TestHooks.pauseUntilKilled(PAUSE_MARKER_PROPERTY, "write of " + target + " (" + PAUSE_AFTER_BYTES_PROPERTY + ")");
      }
    }
  }
}
