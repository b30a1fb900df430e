package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.promptrecovery4j.evaluation.Charts;

/**
 * Retrieval with the REAL sentence-t5-base embeddings of 615 prompts ({@code ../shared}; skipped without it): noisy
 * copies of each prompt's embedding are snapped back to the nearest bank prompt (docs/pipeline.md has the table).
 * Also writes {@code target/retrieval-noise.png}.
 */
class RealEmbeddingRetrievalTest {

  static final Path REAL = Path.of(System.getProperty("pr4j.shared", "../shared"), "data", "st5_prompt_embeddings.json");
  static final double[] LEVELS = {0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6, 0.5};

  static EmbeddedBank bank;

  @BeforeAll
  static void load() throws Exception {
    Assumptions.assumeTrue(Files.isRegularFile(REAL), "shared data absent: " + REAL);
    bank = EmbeddedBank.load(REAL);
  }

  @Test
  void loadsTheRealBank() {
    assertThat(bank.size()).isEqualTo(615);
    assertThat(bank.dimension()).isEqualTo(768);
    assertThat(bank.prompt(0)).isEqualTo("Rewrite the father's portrayal in the love song to enhance readability.");
    assertThat(bank.embedding(0)[0]).isEqualTo(-0.04147978127002716f);
    // every real embedding is its own nearest prompt; leaving it out finds another
    EmbeddingRetrieval r = new EmbeddingRetrieval(bank);
    for (int i = 0; i < bank.size(); i += 41) {
      List<EmbeddingRetrieval.Hit> hits = r.nearest(bank.embedding(i), 2);
      assertThat(hits.get(0).index()).isEqualTo(i);
      assertThat(hits.get(0).cosine()).isCloseTo(1.0, within(1e-5));
      assertThat(r.nearest(bank.embedding(i), 1, List.of(bank.prompt(i))).get(0)).isEqualTo(hits.get(1));
    }
  }

  @Test
  void retrievalUnderNoise() throws Exception {
    List<RetrievalNoiseStudy.Level> iso = RetrievalNoiseStudy.run(bank, RetrievalNoiseStudy.Noise.ISOTROPIC, LEVELS, 2, 42);
    List<RetrievalNoiseStudy.Level> data = RetrievalNoiseStudy.run(bank, RetrievalNoiseStudy.Noise.DATA, LEVELS, 2, 42);
    System.out.println(RetrievalNoiseStudy.table(iso));
    System.out.println(RetrievalNoiseStudy.table(data));
    Path png = Path.of("target", "retrieval-noise.png");
    Charts.line(png, Charts.Frame.of("Nearest-prompt retrieval, 615 real sentence-t5-base embeddings + noise",
        "cos(noisy target, true embedding)", "").withYRange(0, 1), List.of(
        line("top-1 accuracy, data-shaped noise", data, RetrievalNoiseStudy.Level::accuracy),
        line("top-1 accuracy, isotropic noise", iso, RetrievalNoiseStudy.Level::accuracy),
        line("SCS of the retrieved prompt (data-shaped)", data, RetrievalNoiseStudy.Level::retrievedScs),
        line("SCS of the noisy target itself", data, RetrievalNoiseStudy.Level::targetScs),
        line("SCS of the retrieved, truth not in the bank (data-shaped)", data,
            RetrievalNoiseStudy.Level::retrievedScsWithoutTruth)));
    assertThat(png).isRegularFile();

    // isotropic noise in 768 dimensions is nearly orthogonal to every prompt: retrieval hardly ever errs
    assertThat(iso).allSatisfy(l -> assertThat(l.accuracy()).isGreaterThanOrEqualTo(0.997));
    // data-shaped noise moves targets towards other prompts: accuracy and SCS fall as the noise grows
    for (int i = 1; i < data.size(); i++) {
      RetrievalNoiseStudy.Level a = data.get(i - 1);
      RetrievalNoiseStudy.Level b = data.get(i);
      assertThat(b.accuracy()).isLessThanOrEqualTo(a.accuracy() + 0.002);
      assertThat(b.retrievedScs()).isLessThanOrEqualTo(a.retrievedScs() + 0.001);
      assertThat(b.targetScs()).isLessThan(a.targetScs());
      assertThat(b.retrievedScsWithoutTruth()).isLessThan(a.retrievedScsWithoutTruth());
    }
    for (RetrievalNoiseStudy.Level l : data) {
      assertThat(l.targetCosine()).isCloseTo(l.nominalCosine(), within(0.01));
      // snapping to the bank beats submitting the noisy embedding, when the true prompt is in the bank
      assertThat(l.retrievedScs()).isGreaterThan(l.targetScs());
      assertThat(l.retrievedScsWithoutTruth()).isLessThan(l.oracleScsWithoutTruth());
    }
    // the seeded numbers (docs/pipeline.md)
    assertThat(data.get(1).accuracy()).isCloseTo(0.9976, within(0.002));
    assertThat(data.get(1).retrievedScs()).isCloseTo(0.9998, within(0.001));
    assertThat(data.get(1).retrievedScsWithoutTruth()).isCloseTo(0.6649, within(0.002));
    assertThat(data.get(5).accuracy()).isCloseTo(0.8220, within(0.005));
    assertThat(data.get(7).accuracy()).isCloseTo(0.3171, within(0.005));
    assertThat(data.get(7).retrievedScs()).isCloseTo(0.6677, within(0.003));
    assertThat(data.get(7).oracleScsWithoutTruth()).isCloseTo(0.7010, within(1e-4));
  }

  static Charts.Line line(String name, List<RetrievalNoiseStudy.Level> levels,
      java.util.function.ToDoubleFunction<RetrievalNoiseStudy.Level> y) {
    return new Charts.Line(name, levels.stream().mapToDouble(RetrievalNoiseStudy.Level::targetCosine).toArray(),
        levels.stream().mapToDouble(y).toArray());
  }
}
