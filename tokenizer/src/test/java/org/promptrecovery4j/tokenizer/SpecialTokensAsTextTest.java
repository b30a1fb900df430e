package org.promptrecovery4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Special tokens written in the text read as characters, as TensorFlow's SentencePiece does for the
 * Kaggle metric's sentence-t5 (reference: Python sentencepiece's {@code encode} on the same model).
 */
class SpecialTokensAsTextTest {

  static final Path DIR = Path.of(System.getProperty("pr4j.fixtures", "../fixtures"), "tokenizers");

  @Test
  void sentencePieceT5MatchesSentencePieceOnLiteralSpecialTokens() throws Exception {
    JsonNode cases = new ObjectMapper().readTree(DIR.resolve("t5-spm.vectors.json").toFile()).get("specials_as_text");
    Tokenizer t5 = Tokenizers.load(DIR.resolve("t5-spm.model"));
    Tokenizer asText = t5.withSpecialTokensAsText();
    assertThat(cases).hasSizeGreaterThanOrEqualTo(5);
    for (JsonNode c : cases) {
      String input = c.get("input").asText();
      int[] expected = new ObjectMapper().convertValue(c.get("sp_ids"), int[].class);
      assertThat(asText.encode(input, false).ids()).as(input).containsExactly(expected);
      // the post-processor still appends </s>
      int[] withEos = IntStream.concat(Arrays.stream(expected), IntStream.of(t5.eosId())).toArray();
      assertThat(asText.encode(input, true).ids()).as(input).containsExactly(withEos);
    }
    // the default (PyTorch) behaviour matches the literal as the special token
    assertThat(t5.encode("</s>", false).ids()).containsExactly(t5.eosId());
    assertThat(asText.encode("</s>", false).ids()).doesNotContain(t5.eosId());
    // the tokenizer.json path (Unigram + Precompiled, as sentence-t5 ships) no longer matches it either
    Tokenizer json = Tokenizers.load(DIR.resolve("t5-like.tokenizer.json"));
    int eos = json.tokenToId("</s>");
    assertThat(json.encode("a </s> b", false).ids()).contains(eos);
    assertThat(json.withSpecialTokensAsText().encode("a </s> b", false).ids()).doesNotContain(eos);
    // decoding is unchanged
    assertThat(asText.decode(new int[] {t5.eosId()}, true)).isEqualTo(t5.decode(new int[] {t5.eosId()}, true));
  }
}
