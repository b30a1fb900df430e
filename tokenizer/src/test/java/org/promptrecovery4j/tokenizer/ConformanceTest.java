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
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The real tokenizer files in ../shared/conformance/tokenizers reproduce the HuggingFace vectors
 * exactly (ids, tokens, decode, pair and batch encodes). Skips when ../shared is absent.
 */
class ConformanceTest {
  static Path shared() {
    String s = System.getProperty("pr4j.shared", "../shared");
    Path p = Path.of(s, "conformance", "tokenizers");
    Assumptions.assumeTrue(Files.isDirectory(p), "skipped: " + p + " is absent (no ../shared beside the clone)");
    return p;
  }

  record Counts(int total, int ids, int tokens, int decoded, List<String> failures) {
    @Override
    public String toString() {
      return String.format("ids %d/%d, tokens %d/%d, decode %d/%d", ids, total, tokens, total, decoded, total);
    }
  }

  static Counts run(Tokenizer tok, Path vectors) throws IOException {
    JsonNode root = new ObjectMapper().readTree(vectors.toFile());
    int total = 0, okIds = 0, okTok = 0, okDec = 0;
    List<String> failures = new ArrayList<>();
    for (JsonNode d : root.get("datasets")) {
      total++;
      String input = d.get("input").asText();
      int[] want = new int[d.get("ids").size()];
      for (int i = 0; i < want.length; i++) {
        want[i] = d.get("ids").get(i).asInt();
      }
      List<String> wantTok = new ArrayList<>();
      d.get("tokens").forEach(t -> wantTok.add(t.asText()));
      int[] got = tok.encode(input, true).ids();
      if (Arrays.equals(want, got)) {
        okIds++;
      } else {
        failures.add("ids " + q(input) + " want " + Arrays.toString(want) + " got " + Arrays.toString(got));
      }
      List<String> gotTok = tok.tokenize(input);
      if (wantTok.equals(gotTok)) {
        okTok++;
      } else {
        failures.add("tokens " + q(input) + " want " + wantTok + " got " + gotTok);
      }
      String dec = tok.decode(want, true);
      if (d.get("decoded").asText().equals(dec)) {
        okDec++;
      } else {
        failures.add("decode " + q(input) + " want " + q(d.get("decoded").asText()) + " got " + q(dec));
      }
    }
    // pair and batch encodes (gen_tests.py inputs)
    total++;
    int[] pair = tok.encodePair("a a", "b b b b", true).ids();
    if (Arrays.equals(pair, ints(root.at("/pair_encode/input_ids")))) {
      okIds++;
      okTok++;
      okDec++;
    } else {
      failures.add("pair_encode got " + Arrays.toString(pair));
    }
    String padTok = root.has("pad_token") ? root.get("pad_token").asText() : null;
    Tokenizer t10 = tok.withTruncation(10);
    if (padTok != null) {
      t10 = t10.withPadding(Tokenizer.Side.RIGHT, tok.tokenToId(padTok));
    }
    total++;
    List<Encoding> batch = t10.encodeBatch(List.of("a a", "b b b b b b b b b b b b b b b b b"), true);
    if (sameBatch(batch, root.at("/batch_encode"))) {
      okIds++;
      okTok++;
      okDec++;
    } else {
      failures.add("batch_encode got " + batch);
    }
    total++;
    List<Encoding> pb = t10.encodePairBatch(List.of("a a", "a a"), List.of("b", "b b b b b b b b b b b b b b b b b"), true);
    if (sameBatch(pb, root.at("/batch_pair_encode"))) {
      okIds++;
      okTok++;
      okDec++;
    } else {
      failures.add("batch_pair_encode got " + pb);
    }
    return new Counts(total, okIds, okTok, okDec, failures);
  }

  static boolean sameBatch(List<Encoding> got, JsonNode want) {
    JsonNode ids = want.get("input_ids");
    JsonNode mask = want.get("attention_mask");
    if (ids.size() != got.size()) {
      return false;
    }
    for (int i = 0; i < got.size(); i++) {
      if (!Arrays.equals(got.get(i).ids(), ints(ids.get(i))) || !Arrays.equals(got.get(i).attentionMask(), ints(mask.get(i)))) {
        return false;
      }
    }
    return true;
  }

  static int[] ints(JsonNode a) {
    int[] r = new int[a.size()];
    for (int i = 0; i < r.length; i++) {
      r[i] = a.get(i).asInt();
    }
    return r;
  }

  static String q(String s) {
    return "\"" + s.replace("\n", "\\n").replace("\t", "\\t") + "\"";
  }

  static void check(String name, Counts c) {
    System.err.println("[conformance] " + name + ": " + c);
    c.failures().stream().limit(12).forEach(f -> System.err.println("   " + f));
    assertThat(c.failures()).as(name).isEmpty();
  }

  @Test
  void mistralTokenizerJson() throws IOException {
    Path d = shared();
    Tokenizer t = Tokenizers.load(d.resolve("mistral-7b-instruct-v0.2/tokenizer.json"));
    check("mistral tokenizer.json", run(t, d.resolve("vectors/mistralai--Mistral-7B-Instruct-v0.2.json")));
  }

  @Test
  void mistralTokenizerModel() throws IOException {
    Path d = shared();
    Tokenizer t = Tokenizers.load(d.resolve("mistral-7b-instruct-v0.2/tokenizer.model"));
    check("mistral tokenizer.model", run(t, d.resolve("vectors/mistralai--Mistral-7B-Instruct-v0.2.json")));
  }

  @Test
  void gpt2() throws IOException {
    Path d = shared();
    Tokenizer t = Tokenizers.load(d.resolve("gpt2/encoder.json"));
    check("gpt2", run(t, d.resolve("vectors/gpt2.json")));
  }

  @Test
  void phi2() throws IOException {
    Path d = shared();
    Tokenizer t = Tokenizers.fromGpt2Files(d.resolve("gpt2/encoder.json"), d.resolve("gpt2/vocab.bpe"),
        Tokenizers.codeGenWhitespaceTokens(50257), TokenizerConfig.EMPTY);
    check("phi-2", run(t, d.resolve("vectors/microsoft--phi-2.json")));
  }

  /** A phi-2 folder as transformers saves a slow CodeGenTokenizer: vocab.json, merges.txt, tokenizer_config.json. */
  @Test
  void phi2Folder(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
    Path d = shared();
    Files.copy(d.resolve("gpt2/encoder.json"), dir.resolve("vocab.json"));
    Files.copy(d.resolve("gpt2/vocab.bpe"), dir.resolve("merges.txt"));
    StringBuilder cfg = new StringBuilder("{\"tokenizer_class\": \"CodeGenTokenizer\", \"bos_token\": \"<|endoftext|>\","
        + " \"eos_token\": \"<|endoftext|>\", \"unk_token\": \"<|endoftext|>\", \"added_tokens_decoder\": {"
        + "\"50256\": {\"content\": \"<|endoftext|>\", \"special\": true, \"normalized\": false}");
    for (AddedToken t : Tokenizers.codeGenWhitespaceTokens(50257)) {
      cfg.append(", \"").append(t.id()).append("\": {\"content\": \"").append(t.content().replace("\t", "\\t"))
          .append("\", \"special\": false, \"normalized\": true}");
    }
    Files.writeString(dir.resolve("tokenizer_config.json"), cfg.append("}}").toString());
    Tokenizer t = Tokenizers.load(dir);
    check("phi-2 folder", run(t, d.resolve("vectors/microsoft--phi-2.json")));
  }

  /** The Mistral folder as AutoTokenizer sees it: tokenizer.json chosen, tokenizer_config.json applied. */
  @Test
  void mistralFolder() throws IOException {
    Path d = shared();
    Tokenizer t = Tokenizers.load(d.resolve("mistral-7b-instruct-v0.2"));
    assertThat(t.bosId()).isEqualTo(1);
    assertThat(t.eosId()).isEqualTo(2);
    assertThat(t.unkId()).isZero();
    assertThat(t.config().addBosToken()).isTrue();
    assertThat(t.vocabSize()).isEqualTo(32000);
    check("mistral folder", run(t, d.resolve("vectors/mistralai--Mistral-7B-Instruct-v0.2.json")));
  }
}
