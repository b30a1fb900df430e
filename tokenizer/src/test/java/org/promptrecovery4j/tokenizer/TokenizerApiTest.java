package org.promptrecovery4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading, special-token accessors, truncation, padding, config and errors, on the committed fixtures. */
class TokenizerApiTest {
  static Path fx(String name) {
    return FixtureTest.fixtures().resolve(name);
  }

  @Test
  void t5LikeAppendsEosAndTruncatesKeepingIt() throws IOException {
    Tokenizer t = Tokenizers.load(fx("t5-like.tokenizer.json"));
    Encoding e = t.encode("the quick brown fox jumps over the lazy dog", true);
    int[] ids = e.ids();
    assertThat(ids[ids.length - 1]).isEqualTo(1);
    assertThat(e.tokens().get(e.length() - 1)).isEqualTo("</s>");
    Encoding cut = t.withTruncation(4).encode("the quick brown fox jumps over the lazy dog", true);
    assertThat(cut.ids()).containsExactly(ids[0], ids[1], ids[2], 1);
    assertThat(cut.specialTokensMask()).containsExactly(0, 0, 0, 1);
    assertThat(t.tokenToId("</s>")).isEqualTo(1);
    assertThat(t.idToToken(2)).isEqualTo("<unk>");
  }

  @Test
  void batchPaddingRightAndLeft() throws IOException {
    Tokenizer t = Tokenizers.load(fx("wordpiece.tokenizer.json"));
    int pad = t.tokenToId("[PAD]");
    assertThat(pad).isZero();
    List<Encoding> right = t.withPadding(Tokenizer.Side.RIGHT, pad).encodeBatch(List.of("hello", "hello world again"), true);
    Encoding a = t.encode("hello", true);
    Encoding b = t.encode("hello world again", true);
    assertThat(right.get(1).ids()).containsExactly(b.ids());
    assertThat(right.get(0).length()).isEqualTo(b.length());
    assertThat(right.get(0).ids()[0]).isEqualTo(a.ids()[0]);
    assertThat(right.get(0).ids()[b.length() - 1]).isEqualTo(pad);
    assertThat(right.get(0).attentionMask()[a.length() - 1]).isEqualTo(1);
    assertThat(right.get(0).attentionMask()[a.length()]).isZero();
    List<Encoding> left = t.withPadding(Tokenizer.Side.LEFT, pad).encodeBatch(List.of("hello", "hello world again"), true);
    assertThat(left.get(0).ids()[0]).isEqualTo(pad);
    assertThat(left.get(0).ids()[b.length() - 1]).isEqualTo(a.ids()[a.length() - 1]);
    assertThat(left.get(0).attentionMask()[0]).isZero();
    assertThat(left.get(0).tokens().get(0)).isEqualTo("[PAD]");
  }

  @Test
  void bertPairHasTypeIds() throws IOException {
    Tokenizer t = Tokenizers.load(fx("wordpiece.tokenizer.json"));
    Encoding e = t.encodePair("hello", "world", true);
    assertThat(e.tokens().get(0)).isEqualTo("[CLS]");
    assertThat(e.tokens().get(e.length() - 1)).isEqualTo("[SEP]");
    assertThat(e.typeIds()[0]).isZero();
    assertThat(e.typeIds()[e.length() - 1]).isEqualTo(1);
  }

  @Test
  void debertaLikeSpmIsClsASep() throws IOException {
    Tokenizer t = Tokenizers.load(fx("deberta-like.model"));
    Encoding e = t.encode("hello world", true);
    assertThat(e.ids()[0]).isEqualTo(1);
    assertThat(e.ids()[e.length() - 1]).isEqualTo(2);
    assertThat(e.tokens().get(0)).isEqualTo("[CLS]");
    Encoding p = t.encodePair("hello", "world", true);
    assertThat(p.tokens()).startsWith("[CLS]").endsWith("[SEP]");
    assertThat(p.typeIds()[p.length() - 1]).isEqualTo(1);
    assertThat(t.config().tokenizerClass()).isEqualTo("DebertaV2Tokenizer");
    assertThat(t.padId()).isZero();
    assertThat(t.tokenToId("[MASK]")).isEqualTo(t.model().vocabSize());
  }

  @Test
  void llamaLikeSpmIsBosA() throws IOException {
    Tokenizer t = Tokenizers.load(fx("llama-bpe.model"));
    assertThat(t.bosId()).isEqualTo(1);
    assertThat(t.eosId()).isEqualTo(2);
    assertThat(t.unkId()).isZero();
    assertThat(t.encode("hello", true).ids()[0]).isEqualTo(1);
    assertThat(t.encode("hello", false).ids()[0]).isNotEqualTo(1);
  }

  @Test
  void folderPicksTokenizerJsonAndReadsConfig(@TempDir Path dir) throws IOException {
    Files.copy(fx("mistral-like.tokenizer.json"), dir.resolve("tokenizer.json"));
    Files.copy(fx("llama-bpe.model"), dir.resolve("tokenizer.model"));
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"tokenizer_class\": \"LlamaTokenizer\","
        + " \"add_bos_token\": true, \"add_eos_token\": true, \"bos_token\": \"<s>\", \"eos_token\": {\"content\": \"</s>\"},"
        + " \"chat_template\": \"{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}\","
        + " \"model_max_length\": 1000000000000000019884624838656, \"pad_token\": null}", StandardCharsets.UTF_8);
    Tokenizer t = Tokenizers.load(dir);
    assertThat(t.config().chatTemplate()).startsWith("{{ bos_token }}");
    assertThat(t.config().modelMaxLength()).isEqualTo(Long.MAX_VALUE);
    assertThat(t.config().addEosToken()).isTrue();
    Encoding e = t.encode("hello", true);
    assertThat(e.ids()[0]).isEqualTo(1);
    assertThat(e.ids()[e.length() - 1]).isEqualTo(2);
    assertThat(t.padId()).isEqualTo(-1);
    // a folder with only the SentencePiece model uses it
    Files.delete(dir.resolve("tokenizer.json"));
    Tokenizer s = Tokenizers.load(dir);
    assertThat(s.encode("hello", true).ids()).endsWith(2);
  }

  @Test
  void errorsNameWhatIsWrong(@TempDir Path dir) throws IOException {
    String json = Files.readString(fx("wordpiece.tokenizer.json")).replace("\"BertNormalizer\"", "\"FancyNormalizer\"");
    Files.writeString(dir.resolve("tokenizer.json"), json);
    assertThatThrownBy(() -> Tokenizers.load(dir.resolve("tokenizer.json")))
        .isInstanceOf(TokenizerException.class).hasMessageContaining("FancyNormalizer").hasMessageContaining("normalizer");
    String json2 = Files.readString(fx("wordpiece.tokenizer.json")).replace("\"type\": \"WordPiece\",\n  \"unk_token\"",
        "\"type\": \"Mystery\",\n  \"unk_token\"");
    Files.writeString(dir.resolve("t2.json"), json2.replace("\"WordPiece\"", "\"Mystery\""));
    assertThatThrownBy(() -> Tokenizers.load(dir.resolve("t2.json"))).hasMessageContaining("Mystery");
    Files.writeString(dir.resolve("t3.json"), "{ not json");
    assertThatThrownBy(() -> Tokenizers.load(dir.resolve("t3.json"))).hasMessageContaining("t3.json");
    Tokenizer t = Tokenizers.load(fx("wordpiece.tokenizer.json"));
    assertThatThrownBy(() -> t.decode(new int[] {5, 123456}, false)).hasMessageContaining("123456");
    Files.write(dir.resolve("bad.model"), new byte[] {0x0a, (byte) 0xff, (byte) 0xff, 0x7f});
    assertThatThrownBy(() -> Tokenizers.load(dir.resolve("bad.model"))).hasMessageContaining("bad.model");
    assertThatThrownBy(() -> Tokenizers.load(dir.resolve("missing"))).hasMessageContaining("missing");
  }

  @Test
  void jsonlRoundTripAndLineErrors(@TempDir Path dir) throws IOException {
    Tokenizer t = Tokenizers.load(fx("mistral-like.tokenizer.json"));
    Path in = dir.resolve("in.jsonl");
    Files.writeString(in, "{\"text\": \"hello world\"}\n{\"text\": \"\"}\n{\"text\": \"caf\u00e9 \ud83e\udd99\"}\n");
    Path out = dir.resolve("out.jsonl");
    assertThat(JsonlTokenization.tokenize(t, in, out, true)).isEqualTo(3);
    List<String> lines = Files.readAllLines(out);
    assertThat(lines).hasSize(3);
    assertThat(lines.get(1)).isEqualTo("{\"ids\":[1],\"tokens\":[\"<s>\"]}");
    Path dec = dir.resolve("dec.jsonl");
    JsonlTokenization.detokenize(t, out, dec, true);
    assertThat(Files.readAllLines(dec)).containsExactly("{\"text\":\"hello world\"}", "{\"text\":\"\"}",
        "{\"text\":\"caf\u00e9 \ud83e\udd99\"}");
    Files.writeString(in, "{\"text\": \"ok\"}\n{\"text\": oops}\n");
    Path out2 = dir.resolve("out2.jsonl");
    assertThatThrownBy(() -> JsonlTokenization.tokenize(t, in, out2, true)).hasMessageContaining("line 2");
    assertThat(out2).doesNotExist();
    try (var s = Files.list(dir)) {
      assertThat(s.filter(p -> p.getFileName().toString().endsWith(".tmp"))).isEmpty();
    }
    Files.writeString(in, "{\"ids\": [1, 2]}\n{\"ids\": [99999]}\n");
    assertThatThrownBy(() -> JsonlTokenization.detokenize(t, in, out2, false))
        .hasMessageContaining("line 2").hasMessageContaining("99999");
  }
}
