package org.promptrecovery4j.training.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.core.Npy;
import org.promptrecovery4j.core.NpyReader;
import org.promptrecovery4j.evaluation.SharpenedCosine;
import org.promptrecovery4j.models.builtin.BuiltinModels;
import org.promptrecovery4j.training.optim.AdamW;

/**
 * The real-data run (a): the 615 prompts of {@code ../shared/data/st5_prompt_embeddings.json}, features = the
 * built-in all-MiniLM-L6-v2 embeddings of the prompt texts (384), targets = their real sentence-t5-base embeddings
 * (768). A k-fold run of the library ({@link HeadFolds}, the parts of the Random(seed) permutation): each fold's head,
 * trained on the other folds, must predict its held-out embeddings with a higher SCS (mean cos³, the competition's
 * score) than the normalised mean target embedding of its training folds, both at its best epoch and at its last
 * (the last epoch is not chosen on the held-out rows). Skipped when ../shared is absent. Knobs (for exploring;
 * defaults are the documented run): -Dpr4j.head.folds, .epochs, .lr, .loss, .hidden, .batch, .seed.
 */
class RealDataHeadTest {

  @TempDir Path tmp;

  @Test
  void predictedEmbeddingsBeatTheMeanEmbeddingOnHeldOutPrompts() throws Exception {
    Path json = Path.of(System.getProperty("pr4j.shared", "../shared"), "data", "st5_prompt_embeddings.json");
    Assumptions.assumeTrue(Files.isRegularFile(json), "skipped: " + json + " is absent");
    int folds = Integer.getInteger("pr4j.head.folds", 5);
    int epochs = Integer.getInteger("pr4j.head.epochs", 10);
    double lr = Double.parseDouble(System.getProperty("pr4j.head.lr", "3e-3"));
    HeadLoss loss = HeadLoss.parse(System.getProperty("pr4j.head.loss", "cosine"));
    int hidden = Integer.getInteger("pr4j.head.hidden", 1024);
    int batch = Integer.getInteger("pr4j.head.batch", 16);
    long seed = Long.getLong("pr4j.head.seed", 0);

    List<String> prompts = new ArrayList<>();
    List<float[]> targets = new ArrayList<>();
    for (JsonNode n : new ObjectMapper().readTree(json.toFile())) {
      prompts.add(n.get("prompt").asText());
      float[] e = new float[n.get("embedding").size()];
      for (int i = 0; i < e.length; i++) {
        e[i] = (float) n.get("embedding").get(i).asDouble();
      }
      targets.add(e);
    }
    float[][] x = BuiltinModels.allMiniLmL6V2().embed(prompts);
    float[][] y = targets.toArray(new float[0][]);
    Npy.writeFloat32(tmp.resolve("x.npy"), x);
    Npy.writeFloat32(tmp.resolve("y.npy"), y);
    HeadTrainer.Options o = new HeadTrainer.Options(epochs, 0, batch, AdamW.Settings.seed(lr), 1.0, loss, 0, 0, seed,
        hidden, true, null);
    Path out = tmp.resolve("folds");
    HeadFolds.Result r = HeadFolds.train(tmp.resolve("x.npy"), tmp.resolve("y.npy"), out, o, folds, null,
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    assertThat(r.complete()).isTrue();

    double sumMean = 0;
    double sumLast = 0;
    for (HeadFolds.Fold f : r.finished()) {
      RowSplit split = RowSplit.fold(x.length, folds, f.fold(), true, seed);
      float[] mean = meanDirection(HeadTrainer.pick(y, split.train()));
      double scsMean = 0;
      for (int row : split.validation()) {
        scsMean += Math.pow(SharpenedCosine.cosine(mean, y[row]), 3);
      }
      scsMean /= split.validation().length;
      List<HeadTrainer.Epoch> h = f.run().epochs();
      double last = h.get(h.size() - 1).valScs();
      System.out.printf(Locale.ROOT, "fold %d: head SCS %.4f (best, epoch %d), %.4f (last epoch); mean-embedding SCS"
          + " %.4f (%d held-out prompts)%n", f.fold(), f.run().bestValScs(), f.run().bestEpoch(), last, scsMean,
          split.validation().length);
      assertThat(f.run().bestValScs()).as("fold %d, best epoch", f.fold()).isGreaterThan(scsMean);
      assertThat(last).as("fold %d, last epoch", f.fold()).isGreaterThan(scsMean);
      sumMean += scsMean * split.validation().length;
      sumLast += last * split.validation().length;
    }
    // the out-of-fold predictions score what the folds' best epochs did
    float[][] oof = NpyReader.readFloat32(out.resolve(HeadFolds.OOF));
    double oofScs = 0;
    for (int i = 0; i < x.length; i++) {
      oofScs += Math.pow(SharpenedCosine.cosine(oof[i], y[i]), 3);
    }
    assertThat(oofScs / x.length).isCloseTo(r.oofScs(), within(1e-9));
    double mean = sumMean / x.length;
    System.out.printf(Locale.ROOT, "%d-fold, %d epochs, lr %s, loss %s, hidden %d, batch %d, seed %d: out-of-fold head"
        + " SCS %.4f (best epochs; %.4f ± %.4f over folds), %.4f (last epochs); mean-embedding SCS %.4f%n", folds,
        epochs, lr, loss, hidden, batch, seed, r.oofScs(), r.meanScs(), r.stdScs(), sumLast / x.length, mean);
    assertThat(r.oofScs()).isGreaterThan(mean);
  }

  static float[] meanDirection(float[][] rows) {
    double[] s = new double[rows[0].length];
    for (float[] r : rows) {
      for (int i = 0; i < s.length; i++) {
        s[i] += r[i];
      }
    }
    double norm = Math.sqrt(Arrays.stream(s).map(v -> v * v).sum());
    float[] out = new float[s.length];
    for (int i = 0; i < s.length; i++) {
      out[i] = (float) (s[i] / norm);
    }
    return out;
  }

}
