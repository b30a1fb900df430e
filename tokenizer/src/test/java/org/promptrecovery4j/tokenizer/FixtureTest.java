package org.promptrecovery4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Exact match against the committed fixtures made by tools/reference/tokenizers_fixtures.py
 * (HF tokenizers and sentencepiece on tiny trained tokenizers and hard strings).
 */
class FixtureTest {
  static Path fixtures() {
    return Path.of(System.getProperty("pr4j.fixtures", "../fixtures"), "tokenizers");
  }

  static int[] ints(JsonNode a) {
    int[] r = new int[a.size()];
    for (int i = 0; i < r.length; i++) {
      r[i] = a.get(i).asInt();
    }
    return r;
  }

  static List<String> strs(JsonNode a) {
    List<String> l = new ArrayList<>();
    a.forEach(x -> l.add(x.asText()));
    return l;
  }

  static String q(String s) {
    return "\"" + s.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "\"";
  }

  @ParameterizedTest
  @ValueSource(strings = {"t5-like", "phi2-like", "mistral-like", "llama3-like", "unigram-bytes", "wordpiece", "misc-pipeline"})
  void tokenizerJson(String name) throws IOException {
    check(name, Tokenizers.load(fixtures().resolve(name + ".tokenizer.json")));
  }

  /** The older T5 / sentence-t5 layout: a lone Metaspace pre-tokenizer with add_prefix_space. */
  @Test
  void t5OldLayout() throws IOException {
    ObjectMapper om = new ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode j =
        (com.fasterxml.jackson.databind.node.ObjectNode) om.readTree(fixtures().resolve("t5-like.tokenizer.json").toFile());
    j.set("pre_tokenizer", om.readTree("{\"type\": \"Metaspace\", \"replacement\": \"\u2581\", \"add_prefix_space\": true}"));
    j.set("decoder", om.readTree("{\"type\": \"Metaspace\", \"replacement\": \"\u2581\", \"add_prefix_space\": true}"));
    check("t5-like-old", TokenizerJson.fromJson(j, TokenizerConfig.EMPTY));
  }

  private void check(String name, Tokenizer tok) throws IOException {
    JsonNode v = new ObjectMapper().readTree(fixtures().resolve(name + ".vectors.json").toFile());
    List<String> fails = new ArrayList<>();
    int n = 0;
    for (JsonNode c : v.get("cases")) {
      n++;
      String in = c.get("input").asText();
      Encoding e = tok.encode(in, true);
      if (!Arrays.equals(e.ids(), ints(c.get("ids")))) {
        fails.add("ids " + q(in) + " want " + c.get("ids") + " got " + Arrays.toString(e.ids()));
      }
      if (!e.tokens().equals(strs(c.get("tokens")))) {
        fails.add("tokens " + q(in) + " want " + c.get("tokens") + " got " + e.tokens());
      }
      if (!Arrays.equals(tok.encode(in, false).ids(), ints(c.get("ids_no_special")))) {
        fails.add("ids_no_special " + q(in));
      }
      String d = tok.decode(ints(c.get("ids")), true);
      if (!d.equals(c.get("decoded").asText())) {
        fails.add("decode " + q(in) + " want " + q(c.get("decoded").asText()) + " got " + q(d));
      }
      String ds = tok.decode(ints(c.get("ids")), false);
      if (!ds.equals(c.get("decoded_with_special").asText())) {
        fails.add("decode+special " + q(in) + " want " + q(c.get("decoded_with_special").asText()) + " got " + q(ds));
      }
    }
    JsonNode p = v.get("pair");
    Encoding pe = tok.encodePair(p.get("a").asText(), p.get("b").asText(), true);
    if (!Arrays.equals(pe.ids(), ints(p.get("ids"))) || !Arrays.equals(pe.typeIds(), ints(p.get("type_ids")))) {
      fails.add("pair want " + p.get("ids") + p.get("type_ids") + " got " + Arrays.toString(pe.ids()) + Arrays.toString(pe.typeIds()));
    }
    System.err.println("[fixtures] " + name + ": " + (n * 5 + 1 - fails.size()) + "/" + (n * 5 + 1) + " checks exact");
    fails.stream().limit(15).forEach(f -> System.err.println("   " + f));
    assertThat(fails).as(name).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"deberta-like", "llama-bpe", "t5-spm", "unigram-bytes-spm"})
  void sentencePieceModel(String name) throws IOException {
    Tokenizer tok = Tokenizers.load(fixtures().resolve(name + ".model"));
    JsonNode v = new ObjectMapper().readTree(fixtures().resolve(name + ".vectors.json").toFile());
    List<String> fails = new ArrayList<>();
    int n = 0;
    for (JsonNode c : v.get("cases")) {
      n++;
      String in = c.get("input").asText();
      int[] ids = tok.encode(in, true).ids();
      if (!Arrays.equals(ids, ints(c.get("ids")))) {
        fails.add("ids " + q(in) + " want " + c.get("ids") + " got " + Arrays.toString(ids));
      }
      if (!Arrays.equals(tok.encode(in, false).ids(), ints(c.get("ids_no_special")))) {
        fails.add("ids_no_special " + q(in));
      }
      if (!tok.tokenize(in).equals(strs(c.get("tokens")))) {
        fails.add("tokens " + q(in) + " want " + c.get("tokens") + " got " + tok.tokenize(in));
      }
      String d = tok.decode(ints(c.get("ids")), true);
      if (!d.equals(c.get("decoded").asText())) {
        fails.add("decode " + q(in) + " want " + q(c.get("decoded").asText()) + " got " + q(d));
      }
    }
    System.err.println("[fixtures] " + name + ": " + (n * 4 - fails.size()) + "/" + (n * 4) + " checks exact");
    fails.stream().limit(15).forEach(f -> System.err.println("   " + f));
    assertThat(fails).as(name).isEmpty();
  }

  /**
   * transformers' slow SentencePiece tokenizers (4.57: LlamaTokenizer legacy, T5Tokenizer,
   * DebertaV2Tokenizer) on random strings: ids, tokenize(), decode with and without special tokens.
   * Made by tools/reference/slow_spm_fixtures.py.
   */
  @ParameterizedTest
  @ValueSource(strings = {"deberta-like", "llama-bpe", "t5-spm"})
  void slowTransformersSentencePiece(String name) throws IOException {
    Tokenizer tok = Tokenizers.load(fixtures().resolve(name + ".model"));
    JsonNode v = new ObjectMapper().readTree(fixtures().resolve("slow-spm.vectors.json").toFile());
    JsonNode strs = v.get("strings");
    List<String> fails = new ArrayList<>();
    for (int i = 0; i < strs.size(); i++) {
      String in = strs.get(i).asText();
      JsonNode c = v.get(name).get(i);
      int[] want = ints(c.get("ids"));
      if (!Arrays.equals(tok.encode(in, true).ids(), want)) {
        fails.add("ids " + q(in) + " want " + c.get("ids") + " got " + Arrays.toString(tok.encode(in, true).ids()));
      }
      if (!tok.tokenize(in).equals(strs(c.get("tokens")))) {
        fails.add("tokens " + q(in) + " want " + c.get("tokens") + " got " + tok.tokenize(in));
      }
      if (!tok.decode(want, true).equals(c.get("decoded").asText())) {
        fails.add("decode " + q(in) + " want " + q(c.get("decoded").asText()) + " got " + q(tok.decode(want, true)));
      }
      if (!tok.decode(want, false).equals(c.get("decoded_with_special").asText())) {
        fails.add("decode+special " + q(in) + " want " + q(c.get("decoded_with_special").asText()) + " got "
            + q(tok.decode(want, false)));
      }
    }
    System.err.println("[fixtures] slow " + name + ": " + (strs.size() * 4 - fails.size()) + "/" + (strs.size() * 4)
        + " checks exact");
    fails.stream().limit(15).forEach(f -> System.err.println("   " + f));
    assertThat(fails).as(name).isEmpty();
  }
}
