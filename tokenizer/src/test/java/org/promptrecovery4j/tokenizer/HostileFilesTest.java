package org.promptrecovery4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokenizer files built to hurt: each a named error naming the file, never a StackOverflowError, OOM or hang. */
class HostileFilesTest {

  @TempDir Path tmp;

  private static final String WORDLEVEL = "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"[UNK]\": 0, \"a\": 1},"
      + " \"unk_token\": \"[UNK]\"}, \"pre_tokenizer\": %s}";

  @Test
  void tokenizerJsonNested100000DeepIsANamedError() throws IOException {
    int depth = 100_000;
    Path p = Files.writeString(tmp.resolve("deep.tokenizer.json"),
        "{\"normalizer\": " + "{\"type\": \"Sequence\", \"normalizers\": [".repeat(depth) + "]}".repeat(depth) + "}");
    assertThatThrownBy(() -> Tokenizers.load(p)).isInstanceOf(TokenizerException.class)
        .hasMessageContaining("deep.tokenizer.json: not valid JSON")
        .hasMessageContaining("nesting depth"); // Jackson's StreamReadConstraints: at most 1000 levels
  }

  @Test
  void invalidRegexIsANamedError() throws IOException {
    Path p = Files.writeString(tmp.resolve("bad-regex.tokenizer.json"), String.format(WORDLEVEL,
        "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"(a|\"}, \"behavior\": \"Isolated\"}"));
    assertThatThrownBy(() -> Tokenizers.load(p)).isInstanceOf(TokenizerException.class)
        .hasMessageContaining("bad-regex.tokenizer.json").hasMessageContaining("invalid regex '(a|'");
  }

  @Test
  void catastrophicBacktrackingIsANamedErrorNotAHang() throws IOException {
    Path p = Files.writeString(tmp.resolve("redos.tokenizer.json"), String.format(WORDLEVEL,
        "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"(.*a){12}c\"}, \"behavior\": \"Isolated\"}"));
    Tokenizer t = Tokenizers.load(p);
    long start = System.nanoTime();
    assertThatThrownBy(() -> t.encode("a".repeat(40), false)).isInstanceOf(TokenizerException.class)
        .hasMessageContaining("regex '(.*a){12}c' takes too many steps");
    assertThat((System.nanoTime() - start) / 1e9).isLessThan(10);
    assertThat(t.encode("a", false).ids()).containsExactly(1); // short texts still tokenize
  }

  @Test
  void vocabIdsFarPastTheSizeAreNamedNotAllocated() throws IOException {
    Path p = Files.writeString(tmp.resolve("huge-id.tokenizer.json"),
        "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": 2000000000}, \"unk_token\": \"a\"}}");
    assertThatThrownBy(() -> Tokenizers.load(p)).isInstanceOf(TokenizerException.class)
        .hasMessageContaining("huge-id.tokenizer.json").hasMessageContaining("far past its size");
    Path q = Files.writeString(tmp.resolve("neg-id.tokenizer.json"),
        "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": -3}, \"unk_token\": \"a\"}}");
    assertThatThrownBy(() -> Tokenizers.load(q)).hasMessageContaining("neg-id.tokenizer.json")
        .hasMessageContaining("is not an integer from 0");
  }

  // ---------------------------------------------------------------- SentencePiece

  private static void varint(ByteArrayOutputStream o, long v) {
    while ((v & ~0x7FL) != 0) {
      o.write((int) (v & 0x7F) | 0x80);
      v >>>= 7;
    }
    o.write((int) v);
  }

  private static byte[] piece(String s, int type) {
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    p.write(0x0A);
    varint(p, b.length);
    p.writeBytes(b);
    p.write(0x15);
    p.writeBytes(new byte[] {0, 0, (byte) 0x80, (byte) 0xBF}); // score -1
    p.write(0x18);
    varint(p, type);
    ByteArrayOutputStream m = new ByteArrayOutputStream();
    m.write(0x0A);
    varint(m, p.size());
    m.writeBytes(p.toByteArray());
    return m.toByteArray();
  }

  @Test
  void aLengthClaimingGigabytesIsANamedErrorBeforeAllocation() throws IOException {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    o.writeBytes(piece("<unk>", 2));
    o.write(0x0A); // field 1, a piece, whose length claims 2^40 bytes
    varint(o, 1L << 40);
    o.writeBytes(new byte[16]);
    Path p = Files.write(tmp.resolve("liar.model"), o.toByteArray());
    assertThatThrownBy(() -> Tokenizers.load(p)).isInstanceOf(TokenizerException.class)
        .hasMessageContaining("liar.model: not a SentencePiece model: length 1099511627776 past the end");
  }

  @Test
  void absurdPiecesAreNamedErrorsOrHarmless() throws IOException {
    // an unk id outside the pieces
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    o.writeBytes(piece("a", 1));
    o.writeBytes(new byte[] {0x12, 0x03, (byte) 0xC0, 0x02, 0x07}); // trainer spec: unk_id (40) = 7
    Path p = Files.write(tmp.resolve("unk-outside.model"), o.toByteArray());
    assertThatThrownBy(() -> Tokenizers.load(p)).isInstanceOf(TokenizerException.class)
        .hasMessageContaining("unk-outside.model").hasMessageContaining("unk");
    // empty pieces, a 100 000-char piece, duplicates, an unknown type: loads and encodes
    ByteArrayOutputStream q = new ByteArrayOutputStream();
    q.writeBytes(piece("<unk>", 2));
    q.writeBytes(piece("", 1));
    q.writeBytes(piece("", 1));
    q.writeBytes(piece("x".repeat(100_000), 1));
    q.writeBytes(piece("a", 1));
    q.writeBytes(piece("a", 99));
    Path r = Files.write(tmp.resolve("absurd.model"), q.toByteArray());
    Tokenizer t = Tokenizers.load(r);
    int[] ids = t.encode("a xa", false).ids();
    assertThat(ids).isNotEmpty();
    assertThat(t.decode(ids, false)).isNotNull();
  }
}
