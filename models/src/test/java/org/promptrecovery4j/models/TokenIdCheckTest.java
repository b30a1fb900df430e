package org.promptrecovery4j.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.generation.CausalLM;
import org.promptrecovery4j.models.generation.GenerationConfig;
import org.promptrecovery4j.models.generation.Generator;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;
import org.promptrecovery4j.models.sentence.SentenceTransformer;

/**
 * Issue 8: every model checks its token ids against the rows of the embedding table it loaded, before
 * anything reaches ND4J's natives (an id outside the table was a SIGSEGV, a negative one made-up logits),
 * and names the first bad id, its row and position and the vocabulary.
 */
class TokenIdCheckTest {

  /** Every architecture fixture, fp32 and bf16: folder (or llama2.c file), table, its rows. */
  static Stream<Arguments> fixtures() {
    return Stream.of(
        Arguments.of("tiny-mistral-gqa2", "model.embed_tokens.weight", 96),
        Arguments.of("tiny-mistral-bf16-sharded", "model.embed_tokens.weight", 64),
        Arguments.of("tiny-llama-gqa3-bf16", "model.embed_tokens.weight", 80),
        Arguments.of("tiny-phi", "model.embed_tokens.weight", 100),
        Arguments.of("tiny-gemma-bf16", "model.embed_tokens.weight", 128),
        Arguments.of("tiny-llama2c-v1/model.bin", "model.embed_tokens.weight", -1),
        Arguments.of("deberta-v3-tiny-bf16", "embeddings.word_embeddings.weight", 96),
        Arguments.of("deberta-v2-tiny-classic", "deberta.embeddings.word_embeddings.weight", 96),
        Arguments.of("sentence-t5-tiny", "shared.weight", 100),
        Arguments.of("sentence-t5-tiny-gated-bf16", "shared.weight", 100),
        Arguments.of("bert-tiny-mean", "embeddings.word_embeddings.weight", 120),
        Arguments.of("bert-tiny-cls-bf16", "embeddings.word_embeddings.weight", 128));
  }

  static Path path(String fixture) {
    return Path.of(System.getProperty("pr4j.fixtures", "../fixtures")).resolve(fixture);
  }

  static Vocabulary vocabularyOf(ForwardModel m) {
    if (m instanceof CausalLM lm) {
      return lm.vocabulary();
    }
    if (m instanceof SentenceTransformer st) {
      return st.encoder().vocabulary();
    }
    if (m instanceof org.promptrecovery4j.models.deberta.DebertaV2Model d) {
      return d.vocabulary();
    }
    return ((GraphEncoder) m).vocabulary();
  }

  static INDArray ids(long... row) {
    return Nd4j.createFromArray(new long[][] {row});
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void forwardNamesAnIdOutsideTheLoadedTable(String fixture, String table, int rows) throws Exception {
    try (ForwardModel m = Models.load(path(fixture))) {
      Vocabulary v = vocabularyOf(m);
      assertThat(v.table()).isEqualTo(table);
      if (rows > 0) {
        assertThat(v.size()).isEqualTo(rows);
      }
      int size = v.size();
      for (long bad : new long[] {99999, -7, size, Integer.MAX_VALUE + 5L}) {
        assertThatThrownBy(() -> m.forward(ids(1, 2, bad), null))
            .as("id %s", bad)
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("token id " + bad + " at row 0, position 2")
            .hasMessageContaining("outside the vocabulary [0, " + size + ") of " + table)
            .hasMessageNotContaining("\n");
      }
      // the first bad id of a batch, in the second row, with a mask; int ids alike
      INDArray batch = Nd4j.createFromArray(new int[][] {{1, 2, 3}, {4, 99999, -7}});
      assertThatThrownBy(() -> m.forward(batch, Nd4j.ones(DataType.INT, 2, 3)))
          .hasMessageContaining("token id 99999 at row 1, position 1");
      // the largest id in the table still runs
      assertThat(m.forward(ids(1, 2, size - 1), null)).isNotEmpty();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void forwardRefusesOddShapesMasksAndNonIntegralIds(String fixture, String table, int rows) throws Exception {
    try (ForwardModel m = Models.load(path(fixture))) {
      assertThatThrownBy(() -> m.forward(Nd4j.createFromArray(1L, 2L, 3L), null))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be [batch, length]");
      assertThatThrownBy(() -> m.forward(Nd4j.create(DataType.LONG, 1, 0), null))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is empty");
      assertThatThrownBy(() -> m.forward(ids(1, 2, 3), Nd4j.ones(DataType.LONG, 1, 2)))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not match");
      assertThatThrownBy(() -> m.forward(ids(1, 2, 3), Nd4j.createFromArray(new long[][] {{1, 2, 1}})))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("only 0 and 1");
      assertThatThrownBy(() -> m.forward(Nd4j.createFromArray(new double[][] {{1, 1.5}}), null))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token id 1.5 at row 0, position 1");
      assertThatThrownBy(() -> m.forward(Nd4j.createFromArray(new double[][] {{1e30, 1}}), null))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token id 1.0E30 at row 0, position 0");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void generatorAndEmbedderNameABadPromptId(String fixture, String table, int rows) throws Exception {
    try (ForwardModel m = Models.load(path(fixture))) {
      int size = vocabularyOf(m).size();
      for (int bad : new int[] {99999, -7, size}) {
        if (m instanceof CausalLM lm) {
          Generator g = new Generator(lm);
          assertThatThrownBy(() -> g.generate(List.of(new int[] {1, 2}, new int[] {1, 5, bad}),
                  GenerationConfig.greedy(2), null))
              .isInstanceOf(IllegalArgumentException.class)
              .hasMessageContaining("token id " + bad + " at row 1, position 2")
              .hasMessageContaining("[0, " + size + ")");
          // the graph entry point itself checks too (decode steps feed ids through it)
          assertThatThrownBy(() -> lm.run(ids(bad), new int[][] {{0}}, null, null, true, false))
              .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token id " + bad + " at row 0");
        } else if (m instanceof SentenceTransformer st) {
          assertThatThrownBy(() -> new SentenceEmbedder(st, t -> new int[] {1, bad}, 4).embed(List.of("x")))
              .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token id " + bad + " at row 0, position 1");
          assertThatThrownBy(() -> new SentenceEmbedder(st, t -> new int[0], 4).embedIds(List.of(new int[] {bad})))
              .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token id " + bad);
        }
      }
    }
  }

  @Test
  void theLoadedTableWinsOverConfigVocabSizeWithAWarning() {
    String err = capturingErr(() -> {
      Vocabulary v = Vocabulary.of("Test", "model.embed_tokens.weight", 64, 9001);
      assertThat(v.size()).isEqualTo(64);
      assertThatThrownBy(() -> v.check(new long[] {3, 64}, 1))
          .hasMessage("Test: token id 64 at row 1, position 0 is outside the vocabulary [0, 64) of model.embed_tokens.weight");
      Vocabulary.of("Test", "model.embed_tokens.weight", 64, 9001); // the same mismatch: no second line
    });
    assertThat(err.lines().toList()).hasSize(1);
    assertThat(err).contains("vocab_size 9001").contains("64 rows of model.embed_tokens.weight");
  }

  @Test
  void aTokenizerLargerThanTheTableIsWarnedOnceNamingBothSizes() {
    Vocabulary v = new Vocabulary("Mistral", "model.embed_tokens.weight", 64);
    assertThat(v.tokenizerWarning("tok", 64)).isNull();
    assertThat(v.tokenizerWarning("tok", 70)).contains("tok").contains("70 ids").contains("only 64 rows");
    String err = capturingErr(() -> {
      assertThat(v.warnIfTokenizerExceeds("the tokenizer of test-a", 70)).isTrue();
      assertThat(v.warnIfTokenizerExceeds("the tokenizer of test-a", 70)).isTrue();
      assertThat(v.warnIfTokenizerExceeds("the tokenizer of test-a", 64)).isFalse();
    });
    assertThat(err.lines().toList()).hasSize(1);
  }

  @Test
  void aSentenceEmbedderPairedWithALargerTokenizerWarns() throws Exception {
    try (SentenceTransformer st = SentenceTransformer.load(path("sentence-t5-tiny"))) {
      String err = capturingErr(() -> new SentenceEmbedder(st, new org.promptrecovery4j.models.sentence.TextEncoder() {
        @Override
        public int[] encode(String text) {
          return new int[] {1};
        }

        @Override
        public int idLimit() {
          return 150;
        }
      }, 4));
      assertThat(err).contains("150").contains("only 100 rows").contains("shared.weight");
    }
  }

  static String capturingErr(Runnable r) {
    PrintStream old = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      r.run();
    } finally {
      System.setErr(old);
    }
    return buf.toString(StandardCharsets.UTF_8);
  }
}
