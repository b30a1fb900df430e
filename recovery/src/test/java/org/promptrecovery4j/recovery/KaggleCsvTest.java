package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KaggleCsvTest {

  @TempDir Path dir;

  private Path file(String content) throws Exception {
    Path f = dir.resolve("train.csv");
    Files.write(f, content.getBytes(StandardCharsets.UTF_8));
    return f;
  }

  @Test
  void readsBomCrlfMultiLineFieldsAndKeepsOtherColumnsInOrder() throws Exception {
    Path f = file("\uFEFF\"note\",id,original_text,rewrite_prompt,rewritten_text,score\r\n"
        + "n1,a,\"Dear Sir,\r\nhello\",\"Make it \"\"formal\"\"\",\"Sure, here:\n\nHi\",0.5\r\n"
        + ",b,plain,,x,\r\n");
    KaggleTable t = KaggleCsv.read(f);
    assertThat(t.header()).containsExactly("note", "id", "original_text", "rewrite_prompt", "rewritten_text", "score");
    assertThat(t.hasRewritePrompt()).isTrue();
    assertThat(t.rows()).hasSize(2);
    KaggleRow a = t.rows().get(0);
    assertThat(a.id()).isEqualTo("a");
    assertThat(a.originalText()).isEqualTo("Dear Sir,\r\nhello"); // the CRLF inside the quoted field is kept
    assertThat(a.rewrittenText()).isEqualTo("Sure, here:\n\nHi");
    assertThat(a.rewritePrompt()).contains("Make it \"formal\"");
    assertThat(a.others()).containsExactly(Map.entry("note", "n1"), Map.entry("score", "0.5"));
    assertThat(a.line()).isEqualTo(2);
    KaggleRow b = t.rows().get(1);
    assertThat(b.line()).isEqualTo(6); // row a spans lines 2-5
    assertThat(b.rewritePrompt()).contains("");
    assertThat(b.others()).containsExactly(Map.entry("note", ""), Map.entry("score", ""));
    assertThat(t.fields(a)).containsExactly("n1", "a", "Dear Sir,\r\nhello", "Make it \"formal\"", "Sure, here:\n\nHi", "0.5");
  }

  @Test
  void rewritePromptIsOptional() throws Exception {
    KaggleTable t = KaggleCsv.read(file("id,original_text,rewritten_text\n1,o,r\n2,o2,\"r\n2\"")); // no final newline
    assertThat(t.hasRewritePrompt()).isFalse();
    assertThat(t.rows()).extracting(KaggleRow::rewritePrompt).containsExactly(Optional.empty(), Optional.empty());
    assertThat(t.rows().get(1).rewrittenText()).isEqualTo("r\n2");
    assertThat(t.fields(t.rows().get(1))).containsExactly("2", "o2", "r\n2");
  }

  @Test
  void aMissingRequiredColumnIsNamedWithTheColumnsThereAre() throws Exception {
    Path f = file("id,original_text,rewrite_prompt\n1,o,p\n");
    assertThatThrownBy(() -> KaggleCsv.read(f)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage(f + ": header (line 1): no column 'rewritten_text' (columns: id, original_text, rewrite_prompt;"
            + " needed: id, original_text, rewritten_text)");
    Path g = file("id,original_text,rewritten_text,id\n1,o,r,2\n");
    assertThatThrownBy(() -> KaggleCsv.read(g)).hasMessage(g + ": header (line 1): column 'id' appears twice (columns 1 and 4)");
  }

  @Test
  void aRowWithAMissingFieldNamesItsPhysicalLine() throws Exception {
    Path f = file("id,original_text,rewritten_text\n1,\"multi\nline\",r\n2,only two\n");
    assertThatThrownBy(() -> KaggleCsv.read(f)).hasMessage(f + ": line 4: record 3 has 2 fields, the header has 3");
  }

  @Test
  void anEmptyIdNamesTheRowAndLine() throws Exception {
    Path f = file("id,original_text,rewritten_text\n1,\"a\nb\nc\",r\n,o,r\n");
    assertThatThrownBy(() -> KaggleCsv.read(f)).hasMessage(f + ": row 2 (line 5): empty id");
    Path g = file("id,original_text,rewritten_text\r\n\" \u00a0\",o,r\r\n"); // only (Python) whitespace
    assertThatThrownBy(() -> KaggleCsv.read(g)).hasMessage(g + ": row 1 (line 2): empty id");
  }

  @Test
  void aDuplicateIdNamesBothRowsAndLines() throws Exception {
    Path f = file("id,original_text,rewritten_text\nx,o,r\ny,\"two\nlines\",r\nx,o,r\n");
    assertThatThrownBy(() -> KaggleCsv.read(f))
        .hasMessage(f + ": row 3 (line 5): duplicate id 'x' (first at row 1, line 2)");
  }

  @Test
  void writesEveryColumnInOrderAndReadsBackTheSame() throws Exception {
    Path f = file("\uFEFFextra,id,original_text,rewritten_text\r\n\" lead\",1,\"a,b\",\"say \"\"hi\"\"\r\nbye\"\r\n");
    KaggleTable t = KaggleCsv.read(f);
    Path out = dir.resolve("out.csv");
    KaggleCsv.write(out, t);
    assertThat(Files.readString(out)).isEqualTo("extra,id,original_text,rewritten_text\n\" lead\",1,\"a,b\",\"say \"\"hi\"\"\r\nbye\"\n");
    KaggleTable back = KaggleCsv.read(out);
    assertThat(back.header()).isEqualTo(t.header());
    assertThat(back.rows()).extracting(r -> t.fields(r)).isEqualTo(List.of(t.fields(t.rows().get(0))));
  }
}
