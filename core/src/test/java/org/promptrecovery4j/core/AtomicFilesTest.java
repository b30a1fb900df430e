package org.promptrecovery4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link AtomicFiles}: the target is the old file or the complete new one, never anything between. */
class AtomicFilesTest {

  @TempDir Path dir;

  List<String> files() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void replaceFolderSwapsAWholeFolderAndLeavesNothingAside() throws IOException {
    Path target = dir.resolve("model");
    Path first = AtomicFiles.stagingFolder(target);
    AtomicFiles.write(first.resolve("a.txt"), o -> o.write("old".getBytes(StandardCharsets.UTF_8)));
    AtomicFiles.write(first.resolve("gone.txt"), o -> o.write("x".getBytes(StandardCharsets.UTF_8)));
    AtomicFiles.replaceFolder(first, target); // no target yet: published
    assertThat(Files.readString(target.resolve("a.txt"))).isEqualTo("old");
    Path second = AtomicFiles.stagingFolder(target);
    AtomicFiles.write(second.resolve("a.txt"), o -> o.write("new".getBytes(StandardCharsets.UTF_8)));
    AtomicFiles.replaceFolder(second, target);
    assertThat(Files.readString(target.resolve("a.txt"))).isEqualTo("new");
    assertThat(target.resolve("gone.txt")).doesNotExist(); // the new folder, not a merge of both
    assertThat(files()).containsExactly("model");
    Path file = dir.resolve("file");
    Files.writeString(file, "x");
    Path third = AtomicFiles.stagingFolder(file);
    assertThatThrownBy(() -> AtomicFiles.replaceFolder(third, file)).hasMessageContaining("not a folder");
    AtomicFiles.discardFolder(third);
  }

  @Test
  void writeReplacesTheTargetAndLeavesNoTemporaryFile() throws IOException {
    Path target = dir.resolve("sub/out.txt");
    AtomicFiles.write(target, out -> out.write("one".getBytes(StandardCharsets.UTF_8)));
    AtomicFiles.write(target, out -> out.write("two".getBytes(StandardCharsets.UTF_8)));
    assertThat(target).hasContent("two");
    try (Stream<Path> s = Files.list(target.getParent())) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactly("out.txt");
    }
  }

  @Test
  void aFailingWriterLeavesTheOldFileAndNoTemporaryFile() throws IOException {
    Path target = dir.resolve("out.txt");
    Files.writeString(target, "old");
    assertThatThrownBy(() -> AtomicFiles.write(target, out -> {
      out.write("half of the new".getBytes(StandardCharsets.UTF_8));
      throw new IllegalStateException("boom");
    })).hasMessage("boom");
    assertThat(target).hasContent("old");
    assertThat(files()).containsExactly("out.txt");
  }

  @Test
  void pendingStreamsRowsAndOnlyACommitReplacesTheTarget() throws IOException {
    Path target = dir.resolve("rows.csv");
    Files.writeString(target, "old");
    try (AtomicFiles.Pending p = AtomicFiles.open(target)) {
      // a writer that closes its stream does not end the write
      try (Writer w = new OutputStreamWriter(p.stream(), StandardCharsets.UTF_8)) {
        for (int i = 0; i < 1000; i++) {
          Csv.writeRecord(w, List.of(Integer.toString(i), "row " + i));
        }
      }
      assertThat(p.temporaryFile()).exists().hasParent(dir);
      assertThat(p.temporaryFile().getFileName().toString()).startsWith(".rows.csv.").endsWith(".tmp");
      assertThat(target).hasContent("old");
      p.commit();
      assertThatThrownBy(p::commit).isInstanceOf(IllegalStateException.class);
    }
    assertThat(Files.readAllLines(target)).hasSize(1000).startsWith("0,row 0").endsWith("999,row 999");
    assertThat(files()).containsExactly("rows.csv");
  }

  @Test
  void closingWithoutACommitDiscardsTheContent() throws IOException {
    Path target = dir.resolve("out.bin");
    try (AtomicFiles.Pending p = AtomicFiles.open(target)) {
      OutputStream out = p.stream();
      out.write(new byte[100_000]);
    }
    assertThat(target).doesNotExist();
    assertThat(files()).isEmpty();
  }

  @Test
  void staleTemporaryFilesOfAKilledRunAreLeftAloneAndChangeNothing() throws IOException {
    Path target = dir.resolve("out.txt");
    Files.writeString(target, "old");
    Path stale = dir.resolve(".out.txt.123.tmp");
    Files.writeString(stale, "half of a killed wri");
    AtomicFiles.write(target, out -> out.write("new".getBytes(StandardCharsets.UTF_8)));
    assertThat(target).hasContent("new");
    assertThat(stale).hasContent("half of a killed wri");
    assertThat(files()).containsExactly(".out.txt.123.tmp", "out.txt");
  }

  @Test
  void anAppenderKeepsTheWholeRecordsItIsToldAndCutsATornEnd(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("work.partial");
    try (AtomicFiles.Appender a = AtomicFiles.openAppender(f, 0)) {
      a.append("aaaa".getBytes(StandardCharsets.US_ASCII));
      a.append("bbbb".getBytes(StandardCharsets.US_ASCII));
      assertThat(a.size()).isEqualTo(8);
    }
    Files.writeString(f, "aaaabbbbcc"); // a kill in the middle of the third record
    try (AtomicFiles.Appender a = AtomicFiles.openAppender(f, 8)) {
      a.append("cccc".getBytes(StandardCharsets.US_ASCII));
    }
    assertThat(f).hasContent("aaaabbbbcccc");
    assertThatThrownBy(() -> AtomicFiles.openAppender(f, 13)).isInstanceOf(IOException.class)
        .hasMessageContaining("cannot keep 13 bytes of a file of 12");
    assertThat(f).hasContent("aaaabbbbcccc");
  }
}
