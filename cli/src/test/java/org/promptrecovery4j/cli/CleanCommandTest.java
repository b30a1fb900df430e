package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.core.Csv;

class CleanCommandTest {

  @Test
  void cleansRewrittenTextKeepsEveryColumnAndPrintsTheRuleCounts(@TempDir Path dir) throws Exception {
    Path in = dir.resolve("in.csv");
    Files.writeString(in, "\uFEFFid,original_text,rewritten_text,source\r\n"
        + "1,\"Hi,\r\nBob\",\"Certainly, here is the text:**\n\nDear Bob  \",gemma\r\n"
        + "2,o,\"Analysis of the poem\n\nIt rhymes.\",gemma\r\n"
        + "3,o,I am unable to rewrite this.,gemma\r\n");
    Path out = dir.resolve("out.csv");
    CliRunner r = CliRunner.run("clean", "--input", in.toString(), "--output", out.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("     1  refusal  am unable to rewrite", "     1  lead-in  Certainly, here.*?:",
        "     1  lead-in  Analysis of .*?\\n\\n", "     1  prefix   **\\n\\n|user", "rows 3, changed 3, emptied 1");
    assertThat(r.err()).contains("wrote 3 rows to " + out);
    Csv.Table t = Csv.read(out);
    assertThat(t.header()).containsExactly("id", "original_text", "rewritten_text", "source");
    assertThat(t.rows()).containsExactly(List.of("1", "Hi,\r\nBob", "Dear Bob", "gemma"),
        List.of("2", "o", "It rhymes.", "gemma"), List.of("3", "o", "", "gemma"));
  }

  @Test
  void aBadRowIsOneLineNamingTheFileRowAndLineAndNothingIsWritten(@TempDir Path dir) throws Exception {
    Path in = dir.resolve("in.csv");
    Files.writeString(in, "id,original_text,rewritten_text\na,\"x\ny\",r\na,o,r\n");
    Path out = dir.resolve("out.csv");
    CliRunner r = CliRunner.run("clean", "--input", in.toString(), "--output", out.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err().strip()).isEqualTo("error: " + in + ": row 2 (line 4): duplicate id 'a' (first at row 1, line 2)");
    assertThat(out).doesNotExist();
  }
}
