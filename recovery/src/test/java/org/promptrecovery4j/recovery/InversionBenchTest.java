package org.promptrecovery4j.recovery;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.promptrecovery4j.evaluation.SharpenedCosine;
import org.promptrecovery4j.models.builtin.BuiltinModels;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;

/**
 * A measurement, not a unit test (run with {@code -Dpr4j.bench=true}; needs {@code ../shared}): does the inversion
 * search, or joining the top k, raise the score against the TRUE prompt when all it sees is a noisy prediction of
 * that prompt's embedding? With the built-in all-MiniLM-L6-v2 standing in for sentence-t5 (no sentence-t5 weights
 * here), on the 615 real prompts: targets = a prompt's MiniLM embedding + data-shaped noise, the bank = the other 614
 * prompts. Prints the numbers (docs/pipeline.md).
 */
class InversionBenchTest {

  static final Path REAL = RealEmbeddingRetrievalTest.REAL;

  @Test
  void inversionAndTopKAgainstTheTruth() throws Exception {
    Assumptions.assumeTrue(Boolean.getBoolean("pr4j.bench"), "a measurement: run with -Dpr4j.bench=true");
    Assumptions.assumeTrue(Files.isRegularFile(REAL), "shared data absent: " + REAL);
    int rows = Integer.getInteger("pr4j.bench.rows", 40);
    int budget = Integer.getInteger("pr4j.bench.budget", 150);
    double level = Double.parseDouble(System.getProperty("pr4j.bench.cosine", "0.9"));
    Path dir = BuiltinModels.folder(BuiltinModels.ALL_MINILM_L6_V2);
    SentenceEmbedder enc = SentenceEmbedder.load(dir, 64);
    PromptBank prompts = PromptBank.fromLines("615", EmbeddedBank.load(REAL).prompts());
    EmbeddedBank bank = EmbeddedBank.embed(prompts, dir, enc);
    float[][] unit = EmbeddingRetrieval.unitRows(bank.embeddings());
    float[][] all = RetrievalNoiseStudy.noisyTargets(unit, RetrievalNoiseStudy.Noise.DATA, level, 1, new Random(7));
    // every 15th prompt: rows spread over the file
    List<Integer> picked = new ArrayList<>();
    for (int i = 0; i < bank.size() && picked.size() < rows; i += bank.size() / rows) {
      picked.add(i);
    }
    float[][] targets = picked.stream().map(i -> all[i]).toArray(float[][]::new);
    List<String> truths = picked.stream().map(bank::prompt).toList();
    EmbeddingRetrieval retrieval = new EmbeddingRetrieval(bank);

    TopKChoice.Result k = TopKChoice.choose(targets, truths, retrieval, enc::embed, 4, " ", true);
    System.out.print(k.format());

    List<String> words = WordVocabulary.mostFrequent(prompts.prompts(), 300);
    WordEditSearch search = new WordEditSearch(enc::embed, words,
        EmbeddedBank.embed(PromptBank.fromLines("words", words), dir, enc).embeddings(),
        new WordEditSearch.Settings(48, 16, budget, null, 1e-6));
    double targetCos = 0, beforeCos = 0, afterCos = 0, beforeScs = 0, afterScs = 0;
    int better = 0;
    for (int r = 0; r < targets.length; r++) {
      String start = retrieval.nearest(targets[r], 1, List.of(truths.get(r))).get(0).prompt();
      WordEditSearch.Result inv = search.improve(start, WordEditSearch.cosineTo(targets[r]), null, "inversion");
      float[][] e = enc.embed(List.of(start, inv.text(), truths.get(r)));
      targetCos += SharpenedCosine.cosine(targets[r], e[2]);
      beforeCos += inv.startScore();
      afterCos += inv.score();
      double b = SharpenedCosine.score(e[0], e[2], 3);
      double a = SharpenedCosine.score(e[1], e[2], 3);
      beforeScs += b;
      afterScs += a;
      better += a > b ? 1 : 0;
      if (r < 3) {
        System.out.printf(Locale.ROOT, "truth:    %s%nretrieved %.4f: %s%ninverted  %.4f: %s%n", truths.get(r), b, start,
            a, inv.text());
      }
    }
    int n = targets.length;
    System.out.printf(Locale.ROOT, "%d rows, nominal cos %.2f (measured %.4f), budget %d texts a row%n"
        + "cos to the target: retrieved %.4f -> inverted %.4f%n"
        + "SCS against the truth: retrieved %.4f -> inverted %.4f (%d of %d rows better)%n", n, level, targetCos / n,
        budget, beforeCos / n, afterCos / n, beforeScs / n, afterScs / n, better, n);
  }
}
