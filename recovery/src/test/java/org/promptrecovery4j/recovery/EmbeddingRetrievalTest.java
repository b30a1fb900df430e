package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.core.Npy;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;

class EmbeddingRetrievalTest {

  static final Path FIXTURES = Path.of(System.getProperty("pr4j.fixtures", "../fixtures"));

  static EmbeddedBank small() {
    return EmbeddedBank.of("small", List.of("north", "north-east", "east", "south", "east again"),
        new float[][] {{0, 1}, {1, 1}, {1, 0}, {0, -1}, {2, 0}});
  }

  @Test
  void nearestByCosineBestFirstTiesToTheEarlierRow() {
    EmbeddingRetrieval r = new EmbeddingRetrieval(small());
    List<EmbeddingRetrieval.Hit> hits = r.nearest(new float[] {3, 0.1f}, 3);
    // east and "east again" have the same direction: the earlier row first
    assertThat(hits).extracting(EmbeddingRetrieval.Hit::prompt).containsExactly("east", "east again", "north-east");
    assertThat(hits.get(0).cosine()).isCloseTo(3 / Math.hypot(3, 0.1), within(1e-6));
    assertThat(hits.get(2).cosine()).isCloseTo(3.1 / Math.hypot(3, 0.1) / Math.sqrt(2), within(1e-6));
    assertThat(EmbeddingRetrieval.join(hits, 2, " | ")).isEqualTo("east | east again");
    assertThat(EmbeddingRetrieval.join(hits, 9, " ")).isEqualTo("east east again north-east");
    // leaving out a row's own prompt (compared stripped)
    assertThat(r.nearest(new float[] {3, 0.1f}, 1, List.of("  east "))).extracting(EmbeddingRetrieval.Hit::prompt)
        .containsExactly("east again");
    // more than the bank: every row, once
    assertThat(r.nearest(new float[] {0, 1}, 10)).hasSize(5).extracting(EmbeddingRetrieval.Hit::prompt)
        .startsWith("north", "north-east").endsWith("south");
  }

  @Test
  void batchesAgreeWithOneByOne() {
    java.util.Random rnd = new java.util.Random(3);
    float[][] bank = new float[300][8];
    float[][] queries = new float[600][8]; // more than one block of 256
    for (float[][] m : List.of(bank, queries)) {
      for (float[] row : m) {
        for (int k = 0; k < row.length; k++) {
          row[k] = (float) rnd.nextGaussian();
        }
      }
    }
    List<String> prompts = java.util.stream.IntStream.range(0, 300).mapToObj(i -> "p" + i).toList();
    EmbeddingRetrieval r = new EmbeddingRetrieval(EmbeddedBank.of("random", prompts, bank));
    List<List<EmbeddingRetrieval.Hit>> all = r.nearestAll(queries, 3, null);
    for (int q = 0; q < queries.length; q += 37) {
      assertThat(all.get(q)).isEqualTo(r.nearest(queries[q], 3));
      // brute force in double
      int best = 0;
      for (int j = 1; j < bank.length; j++) {
        if (org.promptrecovery4j.evaluation.SharpenedCosine.cosine(queries[q], bank[j])
            > org.promptrecovery4j.evaluation.SharpenedCosine.cosine(queries[q], bank[best])) {
          best = j;
        }
      }
      assertThat(all.get(q).get(0).index()).isEqualTo(best);
    }
  }

  @Test
  void refusesQueriesOfAnotherWidth() {
    EmbeddingRetrieval r = new EmbeddingRetrieval(small());
    assertThatThrownBy(() -> r.nearest(new float[3], 1)).hasMessageContaining("query 0 has 3 values, the bank's"
        + " embeddings (small) have 2");
    assertThatThrownBy(() -> r.nearest(new float[2], 0)).hasMessageContaining("k must be at least 1");
  }

  @Test
  void jsonAndNpyFilesRoundTrip(@TempDir Path dir) throws Exception {
    EmbeddedBank b = small();
    b.writeJson(dir.resolve("bank.json"));
    EmbeddedBank j = EmbeddedBank.load(dir.resolve("bank.json"));
    assertThat(j.prompts()).isEqualTo(b.prompts());
    assertThat(j.embeddings()).isDeepEqualTo(b.embeddings());
    assertThat(RegressorRecoverer.isEmbeddedBank(dir.resolve("bank.json").toString())).isTrue();

    b.writeNpy(dir.resolve("bank.npy"), dir.resolve("bank.json.list.json"));
    EmbeddedBank n = EmbeddedBank.load(dir.resolve("bank.npy"), dir.resolve("bank.json.list.json"));
    assertThat(n.prompts()).isEqualTo(b.prompts());
    assertThat(n.embeddings()).isDeepEqualTo(b.embeddings());
    // a .npy finds its prompt list beside it (.txt or .json of the same name)
    Files.writeString(dir.resolve("other.txt"), String.join("\n", b.prompts()) + "\n", StandardCharsets.UTF_8);
    Npy.writeFloat32(dir.resolve("other.npy"), b.embeddings());
    assertThat(EmbeddedBank.load(dir.resolve("other.npy")).prompts()).isEqualTo(b.prompts());
    assertThat(RegressorRecoverer.isEmbeddedBank(dir.resolve("other.npy").toString())).isTrue();
    assertThat(RegressorRecoverer.isEmbeddedBank(dir.resolve("other.txt").toString())).isFalse();
  }

  @Test
  void badFilesAreNamedWithTheEntry(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("b.json");
    Files.writeString(f, "[{\"prompt\": \"a\", \"embedding\": [1, 0]}, {\"prompt\": \"b\", \"embedding\": [1]}]");
    assertThatThrownBy(() -> EmbeddedBank.load(f)).hasMessage(f + ": entry 1 has 1 values, entry 0 has 2");
    Files.writeString(f, "[{\"prompt\": \"a\", \"embedding\": [1, 0]}, {\"prompt\": \"b\"}]");
    assertThatThrownBy(() -> EmbeddedBank.load(f)).hasMessage(f + ": entry 1 lacks \"embedding\"");
    Files.writeString(f, "[{\"prompt\": \"a\", \"embedding\": [0, 0]}]");
    assertThatThrownBy(() -> EmbeddedBank.load(f)).hasMessage(f + ": entry 0 (\"a\"): the embedding is all zeros");
    Files.writeString(f, "[{\"prompt\": \"a\", \"embedding\": [1, \"x\"]}]");
    assertThatThrownBy(() -> EmbeddedBank.load(f)).hasMessage(f + ": entry 0: embedding value 1 is not a number");
    Files.writeString(f, "[{\"prompt\": \"a\", \"embedding\": [1, 2]");
    assertThatThrownBy(() -> EmbeddedBank.load(f)).hasMessageStartingWith(f + ": not valid JSON");
    Path npy = dir.resolve("e.npy");
    Npy.writeFloat32(npy, new float[][] {{1, 0}, {0, 1}});
    Files.writeString(dir.resolve("e.txt"), "only one\n");
    assertThatThrownBy(() -> EmbeddedBank.load(npy)).hasMessage(npy + " has 2 rows but " + dir.resolve("e.txt")
        + " has 1 prompts");
    Npy.writeFloat32(dir.resolve("lonely.npy"), new float[][] {{1}});
    assertThatThrownBy(() -> EmbeddedBank.load(dir.resolve("lonely.npy"))).hasMessageContaining("no prompt list beside it");
  }

  @Test
  void bankEmbeddingsAreCachedByBankAndEncoder(@TempDir Path dir) throws Exception {
    Path model = FIXTURES.resolve("sentence-t5-tiny-text");
    SentenceEmbedder enc = SentenceEmbedder.load(model, 4);
    PromptBank bank = PromptBank.fromLines("three", List.of("Make it a poem.", "Rewrite as a letter.", "Shorter."));
    Path cache = dir.resolve("cache");
    EmbeddedBank first = EmbeddedBank.embed(bank, model, enc, cache);
    String key = EmbeddedBank.cacheKey(bank.prompts(), model);
    assertThat(cache.resolve(key + ".npy")).isRegularFile();
    assertThat(cache.resolve(key + ".json")).isRegularFile();
    assertThat(first.embeddings()).isDeepEqualTo(enc.embed(bank.prompts()));
    EmbeddedBank second = EmbeddedBank.embed(bank, model, enc, cache);
    assertThat(second.source()).contains("cached");
    assertThat(second.embeddings()).isDeepEqualTo(first.embeddings());
    try (Stream<Path> s = Files.list(cache)) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(key + ".npy", key + ".json");
    }
    // other prompts or another folder: another key
    assertThat(EmbeddedBank.cacheKey(List.of("Make it a poem."), model)).isNotEqualTo(key)
        .endsWith(key.substring(17));
    Path copy = dir.resolve("model");
    try (Stream<Path> s = Files.walk(model)) {
      for (Path p : s.toList()) {
        Path t = copy.resolve(model.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.write(t, Files.readAllBytes(p));
        }
      }
    }
    assertThat(EmbeddedBank.cacheKey(bank.prompts(), copy)).isEqualTo(key); // content, not the path
    Files.writeString(copy.resolve("sentence_bert_config.json"), "{\"max_seq_length\":8,\"do_lower_case\":false}");
    assertThat(EmbeddedBank.cacheKey(bank.prompts(), copy)).isNotEqualTo(key).startsWith(key.substring(0, 17));
  }
}
