package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.core.PythonText;

/** fix_prompt against Python's own outputs ({@code tools/reference/fix_prompt_reference.py}). */
class RewrittenTextCleanerTest {

  static final Path FIXTURES = Path.of(System.getProperty("pr4j.fixtures", "../fixtures"), "rewrite-cleaning");
  static final Path REAL = Path.of(System.getProperty("pr4j.shared", "../../shared"), "data", "gemma_rewrites.csv");

  private static JsonNode json(String name) throws Exception {
    return new ObjectMapper().readTree(FIXTURES.resolve(name).toFile());
  }

  @Test
  void rulesAreThePythonScriptsInItsOrder() throws Exception {
    JsonNode rules = json("edge-cases.json").get("rules");
    assertThat(rules).hasSize(RewrittenTextCleaner.RULES.size());
    for (int i = 0; i < rules.size(); i++) {
      RewrittenTextCleaner.Rule r = RewrittenTextCleaner.RULES.get(i);
      assertThat(r.kind().name().toLowerCase().replace('_', '-')).isEqualTo(rules.get(i).get("kind").asText());
      assertThat(r.pattern()).isEqualTo(rules.get(i).get("pattern").asText());
    }
  }

  @Test
  void everyEdgeCaseGivesPythonsOutputAndRules() throws Exception {
    JsonNode cases = json("edge-cases.json").get("cases");
    assertThat(cases).hasSizeGreaterThanOrEqualTo(60);
    for (JsonNode c : cases) {
      String in = c.get("input").asText();
      List<Integer> rules = new ArrayList<>();
      c.get("rules").forEach(n -> rules.add(n.asInt()));
      RewrittenTextCleaner.Result r = RewrittenTextCleaner.trace(in);
      assertThat(r.text()).as("fix_prompt(%s)", escape(in)).isEqualTo(c.get("output").asText());
      assertThat(r.rules()).as("rules of %s", escape(in)).isEqualTo(rules);
    }
  }

  @Test
  void pythonWhitespaceIsPythonsOverAllCodePoints() throws Exception {
    List<Integer> python = new ArrayList<>();
    json("edge-cases.json").get("whitespace").forEach(n -> python.add(n.asInt()));
    List<Integer> java = new ArrayList<>();
    for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
      if (PythonText.isSpace(cp)) {
        java.add(cp);
      }
    }
    assertThat(java).isEqualTo(python).hasSize(29);
    // where Java's own notions differ: trim() removes U+0000, strip() keeps U+00A0 and U+0085... Python does neither
    assertThat(PythonText.strip("\u0000a\u00a0\u0085")).isEqualTo("\u0000a");
    assertThat(PythonText.strip(" \u200b ")).isEqualTo("\u200b");
  }

  @Test
  void aFewOutputsByHand() {
    assertThat(RewrittenTextCleaner.clean("Sure, here is the rewritten text:**\n\nDear Bob,  ")).isEqualTo("Dear Bob,");
    assertThat(RewrittenTextCleaner.clean("therefore\rI cannot")).isEqualTo(""); // Java's default '.' stops at \r
    assertThat(RewrittenTextCleaner.clean("Summary of the talk\n\nIt went well.")).isEqualTo("It went well.");
  }

  @Test
  void cleanCsvKeepsEveryColumnAndCountsEachRule(@TempDir Path dir) throws Exception {
    Path in = dir.resolve("in.csv");
    Csv.write(in, List.of("id", "original_text", "rewritten_text", "rewrite_prompt", "extra"), List.of(
        List.of("1", "o1", "Sure, here is the text:**\n\nHello  ", "p1", "e1"),
        List.of("2", "o2", "I am unable to provide that.", "p2", "e2"),
        List.of("3", "o3", "Nothing to do.", "p3", "e3")));
    Path out = dir.resolve("out.csv");
    RewrittenTextCleaner.Report report = RewrittenTextCleaner.cleanCsv(in, out);
    Csv.Table t = Csv.read(out);
    assertThat(t.header()).containsExactly("id", "original_text", "rewritten_text", "rewrite_prompt", "extra");
    assertThat(t.rows()).containsExactly(List.of("1", "o1", "Hello", "p1", "e1"), List.of("2", "o2", "", "p2", "e2"),
        List.of("3", "o3", "Nothing to do.", "p3", "e3"));
    assertThat(report.rows()).isEqualTo(3);
    assertThat(report.changed()).isEqualTo(2);
    assertThat(report.emptied()).isEqualTo(1);
    assertThat(report.counts()).containsExactly(0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1);
    assertThat(report.format()).contains("     1  refusal  am unable to provide", "     1  lead-in  Sure, here.*?:",
        "     1  prefix   **\\n\\n|user (cut 4 characters, strip)", "rows 3, changed 2, emptied 1");
  }

  /** The 1,427 real Gemma rewrites: the same per-rule counts and the same cleaned column (SHA-256) as Python. */
  @Test
  void realRewritesEqualPythonExactly() throws Exception {
    Assumptions.assumeTrue(Files.isRegularFile(REAL), "shared data absent: " + REAL);
    JsonNode expected = json("gemma-rewrites-expected.json");
    KaggleTable t = KaggleCsv.read(REAL);
    List<String> texts = new ArrayList<>();
    t.rows().forEach(r -> texts.add(r.rewrittenText()));
    assertThat(texts).hasSize(expected.get("rows").asInt()).hasSize(1427);
    assertThat(digest(texts)).as("the input column as Python's csv reads it").isEqualTo(expected.get("input_sha256").asText());
    RewrittenTextCleaner.Cleaned cleaned = RewrittenTextCleaner.cleanAll(texts);
    long[] counts = cleaned.report().counts();
    JsonNode rules = expected.get("rules");
    for (int i = 0; i < rules.size(); i++) {
      assertThat(counts[i]).as("rows touched by %s", rules.get(i).get("pattern").asText()).isEqualTo(rules.get(i).get("rows").asLong());
    }
    // the values Python gave (fixtures/rewrite-cleaning/gemma-rewrites-expected.json), written out for the reader
    assertThat(counts).containsExactly(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 4, 6, 0);
    assertThat(cleaned.report().changed()).isEqualTo(expected.get("rows_changed").asInt()).isEqualTo(11);
    assertThat(cleaned.report().emptied()).isEqualTo(expected.get("rows_emptied").asInt()).isZero();
    assertThat(digest(cleaned.texts())).isEqualTo(expected.get("cleaned_sha256").asText())
        .isEqualTo("c393414ccf055294fa394374c95edfce863b468179a5440eba30fa43eb0ce1cf");
  }

  /** SHA-256 over each value as an 8-byte big-endian UTF-8 length then its bytes (as the Python script). */
  static String digest(List<String> values) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    for (String v : values) {
      byte[] b = v.getBytes(StandardCharsets.UTF_8);
      md.update(ByteBuffer.allocate(8).putLong(b.length).array());
      md.update(b);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static String escape(String s) {
    StringBuilder sb = new StringBuilder();
    s.codePoints().forEach(cp -> sb.append(cp >= 0x20 && cp < 0x7f ? Character.toString(cp) : String.format("\\u%04x", cp)));
    return sb.toString();
  }
}
