package org.promptrecovery4j.tokenizer.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.promptrecovery4j.tokenizer.Tokenizer;
import org.promptrecovery4j.tokenizer.TokenizerConfig;
import org.promptrecovery4j.tokenizer.TokenizerJson;
import org.promptrecovery4j.tokenizer.Tokenizers;

/**
 * The hand-made seeds of the tokenizer fuzz harnesses are valid files (they load and encode), so that
 * fuzzing starts from the loaded paths; regression inputs ({@code finding-*}, {@code bad-*}) and the corpus
 * kept from long fuzz runs ({@code cov-*}) are not.
 */
class FuzzSeedsTest {

  static Stream<Path> seeds() throws IOException, URISyntaxException {
    Stream<Path> a = list("TokenizerJsonFuzzTestInputs/tokenizerJson");
    Stream<Path> b = list("SentencePieceFuzzTestInputs/sentencePiece");
    return Stream.concat(a, b);
  }

  private static Stream<Path> list(String dir) throws IOException, URISyntaxException {
    Path d = Path.of(FuzzSeedsTest.class.getResource(dir).toURI());
    try (Stream<Path> s = Files.list(d)) {
      List<Path> l = s.filter(p -> !p.getFileName().toString().startsWith("finding-")
          && !p.getFileName().toString().startsWith("bad-") && !p.getFileName().toString().startsWith("crash-")
          && !p.getFileName().toString().startsWith("cov-"))
          .sorted().toList();
      return l.stream();
    }
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void seedLoadsAndEncodes(Path seed) throws Exception {
    Tokenizer t = seed.toString().endsWith(".model")
        ? Tokenizers.fromSentencePiece(seed, TokenizerConfig.EMPTY)
        : TokenizerJson.load(seed, TokenizerConfig.EMPTY);
    Exercise.encodeDecode(seed, t);
    assertThat(t.encode("Hello world", false).ids()).isNotEmpty();
  }
}
