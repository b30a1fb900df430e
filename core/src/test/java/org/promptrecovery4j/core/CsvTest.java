package org.promptrecovery4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvTest {

  @Test
  void roundTripsQuotesCommasAndLineBreaks(@TempDir Path dir) throws Exception {
    List<List<String>> rows = List.of(
        List.of("1", "plain"),
        List.of("2", "with, comma"),
        List.of("3", "say \"hi\""),
        List.of("4", "two\nlines\r\nand CRLF"),
        List.of("5", ""),
        List.of("6", " padded "));
    Path f = dir.resolve("t.csv");
    Csv.write(f, List.of("id", "rewrite_prompt"), rows);
    Csv.Table t = Csv.read(f);
    assertThat(t.header()).containsExactly("id", "rewrite_prompt");
    assertThat(t.rows()).isEqualTo(rows);
  }

  @Test
  void readsCrlfBomAndNoFinalNewline() throws Exception {
    List<List<String>> r = Csv.parse(new StringReader("a,b\r\n\"x\"\"y\",\"\"\r\n1,2"), "s");
    assertThat(r).containsExactly(List.of("a", "b"), List.of("x\"y", ""), List.of("1", "2"));
  }

  @Test
  void malformedInputIsAnErrorNamingTheLine(@TempDir Path dir) throws Exception {
    assertThatThrownBy(() -> Csv.parse(new StringReader("a,b\n\"open"), "s")).hasMessageContaining("not closed");
    assertThatThrownBy(() -> Csv.parse(new StringReader("a,b\nx\"y,1"), "s")).hasMessageContaining("line 2");
    Path f = dir.resolve("w.csv");
    Files.writeString(f, "id,p\n1,2,3\n");
    assertThatThrownBy(() -> Csv.read(f)).hasMessageContaining("record 2 has 3 fields");
  }

  @Test
  void recordsKnowThePhysicalLineTheyStartOn(@TempDir Path dir) throws Exception {
    // a BOM before a quoted header, CRLF record ends, a field over three lines (LF and CRLF kept inside), a blank line
    Path f = dir.resolve("m.csv");
    Files.writeString(f, "\uFEFF\"id\",text\r\na,\"one\ntwo\r\nthree\"\r\n\r\nb,x\r\n");
    Csv.Table t = Csv.read(f);
    assertThat(t.header()).containsExactly("id", "text");
    assertThat(t.rows()).containsExactly(List.of("a", "one\ntwo\r\nthree"), List.of("b", "x"));
    assertThat(t.lines()).containsExactly(2L, 6L);
    Files.writeString(f, "id,text\na,\"1\n2\n3\"\nb,2,extra\n");
    assertThatThrownBy(() -> Csv.read(f)).hasMessageContaining("m.csv: line 5: record 3 has 3 fields, the header has 2");
    assertThatThrownBy(() -> Csv.parse(new StringReader("a\nb\n\"x\ny"), "s"))
        .hasMessage("s: line 3: a quoted field is not closed at the end of the file");
  }

  @Test
  void readsTheRealRewritesFile() throws Exception {
    Path f = Path.of(System.getProperty("pr4j.shared", "../../shared"), "data", "gemma_rewrites.csv");
    Assumptions.assumeTrue(Files.isRegularFile(f), "shared data absent: " + f);
    Csv.Table t = Csv.read(f);
    assertThat(t.header()).containsExactly("id", "original_text", "rewritten_text", "rewrite_prompt");
    assertThat(t.rows()).hasSize(1427);
  }
}
