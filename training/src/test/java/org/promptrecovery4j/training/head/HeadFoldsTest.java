package org.promptrecovery4j.training.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.InterruptedIOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.core.Npy;
import org.promptrecovery4j.core.NpyReader;
import org.promptrecovery4j.evaluation.SharpenedCosine;
import org.promptrecovery4j.training.HeadFixtures;
import org.promptrecovery4j.training.optim.AdamW;
import org.promptrecovery4j.weights.Checkpoints;
import org.promptrecovery4j.weights.WeightSource;

/** k-fold head training ({@link HeadFolds}) on the 20 rows of fixtures/head-training (in 16, out 8). */
class HeadFoldsTest {

  @TempDir Path tmp;

  private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

  /** 3 epochs, batch 4, SCS loss, input dropout 0.1, seed 7, hidden 12, shuffled, no --val-fraction. */
  static HeadTrainer.Options options(double valFraction, boolean shuffle) {
    return new HeadTrainer.Options(3, 0, 4, AdamW.Settings.seed(3e-3), 1.0, HeadLoss.SCS, valFraction, 0.1, 7, 12,
        shuffle, null);
  }

  static Path features() {
    return HeadFixtures.dir().resolve("features.npy");
  }

  static Path targets() {
    return HeadFixtures.dir().resolve("targets.npy");
  }

  @Test
  void foldsPartitionTheRowsInContiguousPartsOfTheOrder() {
    for (int n : new int[] {4, 20, 23, 615}) {
      for (int k : new int[] {2, 3, 5, 7}) {
        if (2 * k > n) {
          continue;
        }
        for (boolean shuffle : new boolean[] {true, false}) {
          int[] order = RowSplit.order(n, shuffle, 11);
          int[] seen = new int[n];
          List<Integer> concatenated = new ArrayList<>();
          for (int f = 0; f < k; f++) {
            RowSplit s = RowSplit.fold(n, k, f, shuffle, 11);
            assertThat(s.validation().length).isBetween(n / k, n / k + 1);
            assertThat(s.train().length + s.validation().length).isEqualTo(n);
            for (int r : s.validation()) {
              seen[r]++;
              concatenated.add(r);
            }
            int[] both = Stream.of(s.train(), s.validation()).flatMapToInt(Arrays::stream).sorted().toArray();
            assertThat(both).as("n %d, fold %d of %d", n, f, k).isEqualTo(RowSplit.order(n, false, 0));
          }
          assertThat(seen).as("every row validated once, n %d, %d folds", n, k).containsOnly(1);
          assertThat(concatenated).containsExactly(Arrays.stream(order).boxed().toArray(Integer[]::new));
        }
      }
    }
    // in file order: parts [⌊k·N/K⌋, ⌊(k+1)·N/K⌋), training rows in order
    assertThat(RowSplit.fold(10, 3, 0, false, 0).validation()).containsExactly(0, 1, 2);
    assertThat(RowSplit.fold(10, 3, 1, false, 0).validation()).containsExactly(3, 4, 5);
    assertThat(RowSplit.fold(10, 3, 1, false, 0).train()).containsExactly(0, 1, 2, 6, 7, 8, 9);
    assertThat(RowSplit.fold(10, 3, 2, false, 0).validation()).containsExactly(6, 7, 8, 9);
    // a single run's hold-out: the last ⌈F·N⌉ of the same permutation
    int[] p = RowSplit.order(20, true, 7);
    assertThat(RowSplit.holdOut(20, 0.2, true, 7).validation()).containsExactly(Arrays.copyOfRange(p, 16, 20));
    assertThat(RowSplit.holdOut(20, 0, true, 7).train()).isEqualTo(RowSplit.order(20, false, 0));
  }

  /**
   * Fold k of a 3-fold run equals a single --val-fraction run on the same rows: the rows of the files are rearranged
   * so that the single run's own split (the last ⌈F·N⌉ rows of the same Random(seed) permutation) puts fold k's
   * training rows, in order, where it trains and fold k's validation rows where it validates.
   */
  @Test
  void eachFoldIsTheSingleRunWhoseValidationRowsAreThatFolds() throws Exception {
    Path out = tmp.resolve("folds");
    HeadFolds.Result folds = HeadFolds.train(features(), targets(), out, options(0, true), 3, null, QUIET);
    assertThat(folds.complete()).isTrue();
    assertThat(folds.finished()).extracting(HeadFolds.Fold::validationRows).containsExactly(6, 7, 7);
    float[][] x = NpyReader.readFloat32(features());
    float[][] y = NpyReader.readFloat32(targets());
    for (int k = 0; k < 3; k++) {
      RowSplit fold = RowSplit.fold(20, 3, k, true, 7);
      int nVal = fold.validation().length;
      double fraction = (nVal - 0.5) / 20;
      int[] wanted = Stream.of(fold.train(), fold.validation()).flatMapToInt(Arrays::stream).toArray();
      int[] single = RowSplit.order(20, true, 7);
      float[][] xs = new float[20][];
      float[][] ys = new float[20][];
      for (int i = 0; i < 20; i++) {
        xs[single[i]] = x[wanted[i]];
        ys[single[i]] = y[wanted[i]];
      }
      Path dir = tmp.resolve("single" + k);
      Npy.writeFloat32(dir.resolve("x.npy"), xs);
      Npy.writeFloat32(dir.resolve("y.npy"), ys);
      assertThat(RowSplit.holdOut(20, fraction, true, 7).validation()).hasSize(nVal);
      HeadTrainer.Result one = HeadTrainer.train(dir.resolve("x.npy"), dir.resolve("y.npy"), dir.resolve("head"),
          options(fraction, true), QUIET);
      HeadTrainer.Result f = folds.finished().get(k).run();
      assertThat(f.epochs()).as("fold %d", k).isEqualTo(one.epochs()).hasSize(3);
      assertThat(f.bestEpoch()).isEqualTo(one.bestEpoch());
      assertThat(f.steps()).isEqualTo(one.steps()).isEqualTo(k == 0 ? 12 : 9); // 14 or 13 training rows at batch 4
      for (String file : List.of(HeadTrainer.HEAD, HeadTrainer.STATE)) {
        try (WeightSource a = Checkpoints.open(out.resolve(HeadFolds.foldName(k)).resolve(file));
             WeightSource b = Checkpoints.open(dir.resolve("head").resolve(file))) {
          assertThat(a.names()).containsExactlyElementsOf(b.names());
          for (String n : a.names()) {
            assertThat(a.load(n).equals(b.load(n))).as("fold %d %s %s", k, file, n).isTrue();
          }
        }
      }
    }
  }

  /** folds.json, oof.npy and predict-embedding's mean of the fold heads. */
  @Test
  void summaryOutOfFoldPredictionsAndTheMeanOfTheFoldHeads() throws Exception {
    Path out = tmp.resolve("folds");
    HeadFolds.Result r = HeadFolds.train(features(), targets(), out, options(0, true), 3, null, QUIET);
    float[][] x = NpyReader.readFloat32(features());
    float[][] y = NpyReader.readFloat32(targets());
    float[][] oof = NpyReader.readFloat32(out.resolve(HeadFolds.OOF));
    assertThat(oof).hasDimensions(20, 8);
    List<float[][]> perFold = new ArrayList<>();
    double oofCubes = 0;
    for (int k = 0; k < 3; k++) {
      Path pred = tmp.resolve("pred" + k + ".npy");
      assertThat(HeadTrainer.predict(out.resolve(HeadFolds.foldName(k)), features(), pred)).isEqualTo(20);
      perFold.add(NpyReader.readFloat32(pred));
      double cubes = 0;
      for (int row : RowSplit.fold(20, 3, k, true, 7).validation()) {
        // the same head on a batch of other rows: oneDNN's GEMM may round differently at another batch size
        assertThat(oof[row]).as("oof row %d (fold %d)", row, k)
            .containsExactly(perFold.get(k)[row], org.assertj.core.api.Assertions.within(1e-6f));
        double c = SharpenedCosine.cosine(oof[row], y[row]);
        cubes += c * c * c;
      }
      // the best epoch's validation SCS is that of the saved best head on the fold's rows
      assertThat(cubes / r.finished().get(k).validationRows()).isCloseTo(r.finished().get(k).run().bestValScs(),
          org.assertj.core.api.Assertions.within(1e-12));
      oofCubes += cubes;
    }
    assertThat(r.oofScs()).isCloseTo(oofCubes / 20, org.assertj.core.api.Assertions.within(1e-12));
    double[] best = r.finished().stream().mapToDouble(f -> f.run().bestValScs()).toArray();
    double mean = Arrays.stream(best).average().orElseThrow();
    double std = Math.sqrt(Arrays.stream(best).map(b -> (b - mean) * (b - mean)).sum() / 3);
    assertThat(r.meanScs()).isEqualTo(mean);
    assertThat(r.stdScs()).isCloseTo(std, org.assertj.core.api.Assertions.within(1e-15));
    assertThat(r.missing()).isEmpty();

    JsonNode j = new ObjectMapper().readTree(out.resolve(HeadFolds.FOLDS_JSON).toFile());
    assertThat(j.get("folds").asInt()).isEqualTo(3);
    assertThat(j.get("finished").toString()).isEqualTo("[0,1,2]");
    assertThat(j.get("missing").toString()).isEqualTo("[]");
    assertThat(j.get("oof").asText()).isEqualTo(HeadFolds.OOF);
    assertThat(j.get("mean_val_scs").asDouble()).isEqualTo(mean);
    assertThat(j.get("oof_scs").asDouble()).isEqualTo(r.oofScs());
    for (int k = 0; k < 3; k++) {
      JsonNode f = j.get("per_fold").get(k);
      assertThat(f.get("best_val_scs").asDouble()).isEqualTo(best[k]);
      assertThat(f.get("best_epoch").asInt()).isEqualTo(r.finished().get(k).run().bestEpoch());
      assertThat(f.get("validation_rows").asInt()).isEqualTo(k == 0 ? 6 : 7);
      assertThat(f.get("epochs").asInt()).isEqualTo(3);
    }

    // predict-embedding on the folds folder: the mean of the 3 heads' predictions
    Path mean3 = tmp.resolve("mean.npy");
    assertThat(HeadTrainer.predict(out, features(), mean3)).isEqualTo(20);
    float[][] got = NpyReader.readFloat32(mean3);
    for (int i = 0; i < 20; i++) {
      for (int c = 0; c < 8; c++) {
        double s = 0;
        for (float[][] p : perFold) {
          s += p[i][c];
        }
        assertThat(got[i][c]).as("row %d col %d", i, c).isEqualTo((float) (s / 3));
      }
    }
    // the heads differ (else the mean would prove nothing)
    assertThat(perFold.get(0)[0]).isNotEqualTo(perFold.get(1)[0]);
    assertThat(x).hasNumberOfRows(20);
  }

  /** --fold 1 alone gives fold 1 of a full run; the same command without --fold then completes the same folder. */
  @Test
  void oneFoldAloneEqualsThatFoldOfAFullRun() throws Exception {
    Path full = tmp.resolve("full");
    Path lone = tmp.resolve("lone");
    HeadFolds.train(features(), targets(), full, options(0, false), 3, null, QUIET);
    HeadFolds.Result one = HeadFolds.train(features(), targets(), lone, options(0, false), 3, 1, QUIET);
    assertThat(one.finished()).extracting(HeadFolds.Fold::fold).containsExactly(1);
    assertThat(one.missing()).containsExactly(0, 2);
    assertThat(one.complete()).isFalse();
    assertThat(lone.resolve(HeadFolds.OOF)).doesNotExist();
    assertSameFiles(lone.resolve(HeadFolds.foldName(1)), full.resolve(HeadFolds.foldName(1)));
    assertThat(lone.resolve(HeadFolds.foldName(0))).doesNotExist();
    JsonNode j = new ObjectMapper().readTree(lone.resolve(HeadFolds.FOLDS_JSON).toFile());
    assertThat(j.get("finished").toString()).isEqualTo("[1]");
    assertThat(j.get("oof").isNull()).isTrue();
    // a folder with folds missing cannot predict, and says which
    assertThatThrownBy(() -> HeadTrainer.predict(lone, features(), tmp.resolve("p.npy")))
        .isInstanceOf(java.io.FileNotFoundException.class)
        .hasMessageContaining("folds 0, 2 of this 3-fold run are missing");
    assertThat(tmp.resolve("p.npy")).doesNotExist();
    // completing it (fold 1 skipped) gives the full run, byte for byte
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    HeadFolds.train(features(), targets(), lone, options(0, false), 3, null,
        new PrintStream(log, true, StandardCharsets.UTF_8));
    assertThat(log.toString(StandardCharsets.UTF_8)).contains("fold 1: finished before");
    assertSameFiles(lone, full);
  }

  /** A run paused (test hook) after fold 1's 2nd epoch and stopped, then started again, ends byte for byte as one never stopped. */
  @Test
  void aStoppedRunResumesToTheSameBytes() throws Exception {
    Path clean = tmp.resolve("clean");
    HeadFolds.train(features(), targets(), clean, options(0, true), 3, null, QUIET);

    Path killed = tmp.resolve("killed");
    Path marker = tmp.resolve("paused");
    Throwable thrown = org.promptrecovery4j.testsupport.PausedRun.untilPaused(
        java.util.Map.of(HeadTrainer.PAUSE_AFTER_EPOCHS_PROPERTY, "5", HeadTrainer.PAUSE_MARKER_PROPERTY, marker.toString()), marker, () -> HeadFolds.train(features(), targets(), killed, options(0, true), 3, null, QUIET));
    assertThat(thrown).isInstanceOf(InterruptedIOException.class);
    // fold 0 finished and recorded, fold 1 checkpointed after its 2nd epoch, fold 2 not started
    JsonNode j = new ObjectMapper().readTree(killed.resolve(HeadFolds.FOLDS_JSON).toFile());
    assertThat(j.get("finished").toString()).isEqualTo("[0]");
    assertThat(killed.resolve(HeadFolds.foldName(1)).resolve(HeadTrainer.STATE)).exists();
    assertThat(killed.resolve(HeadFolds.foldName(2))).doesNotExist();
    assertThat(killed.resolve(HeadFolds.OOF)).doesNotExist();

    ByteArrayOutputStream log = new ByteArrayOutputStream();
    HeadFolds.Result r = HeadFolds.train(features(), targets(), killed, options(0, true), 3, null,
        new PrintStream(log, true, StandardCharsets.UTF_8));
    assertThat(log.toString(StandardCharsets.UTF_8)).contains("fold 0: finished before")
        .contains("fold 1: train-head: 13 training rows, 7 validation rows").contains("resuming after step 6, epoch 2");
    assertThat(r.complete()).isTrue();
    assertSameFiles(killed, clean);
  }

  @Test
  void badFoldSettingsAreNamed() throws Exception {
    Path out = tmp.resolve("out");
    assertThatThrownBy(() -> HeadFolds.train(features(), targets(), out, options(0.1, true), 3, null, QUIET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--folds 3 and --val-fraction 0.1 together");
    assertThatThrownBy(() -> HeadFolds.train(features(), targets(), out, options(0, true), 1, null, QUIET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--folds must be at least 2, got 1");
    assertThatThrownBy(() -> HeadFolds.train(features(), targets(), out, options(0, true), 11, null, QUIET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--folds 11 is more than half of the 20 rows")
        .hasMessageContaining("features.npy");
    assertThatThrownBy(() -> HeadFolds.train(features(), targets(), out, options(0, true), 3, 3, QUIET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--fold 3 is out of range")
        .hasMessageContaining("0..2");
    assertThatThrownBy(() -> HeadFolds.train(features(), targets(), out, options(0, true), 3, -1, QUIET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--fold -1 is out of range");
    // 10 folds of 20 rows: 18 training rows each, fewer than a batch of 19
    HeadTrainer.Options big = new HeadTrainer.Options(1, 0, 19, AdamW.Settings.seed(1e-3), 0, HeadLoss.MSE, 0, 0, 0, 8,
        true, null);
    assertThatThrownBy(() -> HeadFolds.train(features(), targets(), out, big, 10, null, QUIET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--batch-size 19 is larger than the 18");
    assertThat(out).doesNotExist();
    // a single run's folder is not a k-fold folder, nor the other way round
    Path single = tmp.resolve("single");
    HeadTrainer.train(features(), targets(), single, options(0.2, true), QUIET);
    assertThatThrownBy(() -> HeadFolds.train(features(), targets(), single, options(0, true), 3, null, QUIET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds a single train-head run");
    Path folds = tmp.resolve("folds");
    HeadFolds.train(features(), targets(), folds, options(0, true), 2, 0, QUIET);
    assertThatThrownBy(() -> HeadTrainer.train(features(), targets(), folds, options(0.2, true), QUIET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds a k-fold run");
    // the same folder with another K: the fold's settings differ
    assertThatThrownBy(() -> HeadFolds.train(features(), targets(), folds, options(0, true), 4, null, QUIET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fold-0 holds a run with other settings");
  }

  /** The same files under both folders, with the same bytes. */
  static void assertSameFiles(Path actual, Path expected) throws Exception {
    List<String> names = files(expected);
    assertThat(files(actual)).isEqualTo(names);
    for (String n : names) {
      assertThat(Arrays.equals(Files.readAllBytes(actual.resolve(n)), Files.readAllBytes(expected.resolve(n))))
          .as("%s is the same in %s and %s", n, actual, expected).isTrue();
    }
  }

  /** The files under {@code dir}, relative, sorted. */
  static List<String> files(Path dir) throws Exception {
    try (Stream<Path> walk = Files.walk(dir)) {
      List<String> l = walk.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
      assertThat(l).isNotEmpty();
      return l;
    }
  }
}
