package org.promptrecovery4j.training.head;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.promptrecovery4j.core.AtomicFiles;
import org.promptrecovery4j.core.Npy;
import org.promptrecovery4j.core.NpyReader;

/**
 * K-fold training of the head ({@code train-head --folds K}) and the fold heads' mean prediction.
 *
 * <p>Fold k of K validates on part k of the rows ({@link RowSplit#fold}: part k of the {@code Random(seed)}
 * permutation, or of file order without shuffling) and trains on the other K−1 parts. Each fold is a complete
 * {@link HeadTrainer} run in {@code OUTPUT/fold-k/} (k = 0..K−1: head, config and checkpoint, resumable as a single
 * run is; its settings carry {@code folds} and {@code fold}, so a fold folder of another K is refused). A call trains
 * the folds not finished yet in order (or only {@code --fold I}), skipping finished ones by their checkpoint's
 * metadata, so a killed run started again skips finished folds and resumes the one in flight. {@value #FOLDS_JSON}
 * (atomic) is written when a call starts, after each fold, and at its end: every finished fold's best epoch and best
 * validation SCS, their mean and population standard deviation, and the out-of-fold SCS (mean cos³ over the rows of
 * the finished folds, each predicted by its fold's best head: the row-weighted mean of the folds' best SCS). Once every
 * fold is finished, {@value #OOF} holds each row's prediction by its fold's best head, in the file's row order.
 *
 * <p>Folds trained on separate machines ({@code --fold I}) are put together by copying their {@code fold-I} folders
 * into one OUTPUT and running the same command without {@code --fold}: it trains nothing and writes the summary and
 * {@value #OOF}.
 */
public final class HeadFolds {

  public static final String FOLDS_JSON = "folds.json";
  public static final String OOF = "oof.npy";

  private static final ObjectMapper JSON = new ObjectMapper();

  private HeadFolds() {}

  /** The folder of fold {@code k}: {@code fold-k}. */
  public static String foldName(int k) {
    return "fold-" + k;
  }

  /** A finished fold: its index, its number of validation rows and its run. */
  public record Fold(int fold, int validationRows, HeadTrainer.Result run) {}

  /**
   * What the output folder holds after a call: the finished folds in fold order, the missing ones, the mean and
   * population standard deviation of the finished folds' best validation SCS (NaN when none), the out-of-fold SCS
   * over their rows, and whether every fold is finished ({@value #OOF} written).
   */
  public record Result(int folds, List<Fold> finished, List<Integer> missing, double meanScs, double stdScs,
                       double oofScs, boolean complete) {}

  /**
   * Trains (or resumes, or completes) the K-fold run in {@code output}: every fold, or only fold {@code only} when
   * not null. {@code options.valFraction()} must be 0 (each fold validates on its own part).
   */
  public static Result train(Path features, Path targets, Path output, HeadTrainer.Options options, int folds,
                             Integer only, PrintStream log) throws IOException {
    HeadTrainer.checkOptions(options);
    if (folds < 2) {
      throw new IllegalArgumentException("--folds must be at least 2, got " + folds);
    }
    if (options.valFraction() > 0) {
      throw new IllegalArgumentException("--folds " + folds + " and --val-fraction " + options.valFraction()
          + " together: each fold validates on its own part of the rows; leave --val-fraction out");
    }
    if (only != null && (only < 0 || only >= folds)) {
      throw new IllegalArgumentException("--fold " + only + " is out of range: the folds of --folds " + folds + " are 0.."
          + (folds - 1));
    }
    float[][] x = NpyReader.readFloat32(features);
    float[][] y = NpyReader.readFloat32(targets);
    HeadTrainer.checkData(features, targets, x, y);
    if (2L * folds > x.length) {
      throw new IllegalArgumentException("--folds " + folds + " is more than half of the " + x.length + " rows of "
          + features + " (each fold validates on at least 2 rows)");
    }
    if (Files.exists(output.resolve(HeadTrainer.STATE)) || Files.exists(output.resolve(HeadTrainer.HEAD))) {
      throw new IllegalArgumentException(output + " holds a single train-head run (" + HeadTrainer.STATE + " or "
          + HeadTrainer.HEAD + "); use another --output for --folds");
    }
    int[] epochsThisCall = new int[1];
    List<HeadTrainer> trainers = new ArrayList<>();
    List<RowSplit> splits = new ArrayList<>();
    for (int k = 0; k < folds; k++) {
      RowSplit split = RowSplit.fold(x.length, folds, k, options.shuffle(), options.seed());
      ObjectNode identity = ((ObjectNode) options.identity()).put("folds", folds).put("fold", k);
      HeadTrainer t = new HeadTrainer(features, targets, output.resolve(foldName(k)), options, identity, split,
          "fold " + k + ": ", epochsThisCall, log);
      t.checkBatchSize();
      trainers.add(t);
      splits.add(split);
    }
    Map<Integer, HeadTrainer.Result> done = new TreeMap<>();
    for (int k = 0; k < folds; k++) {
      HeadTrainer.Result r = trainers.get(k).finished();
      if (r != null) {
        done.put(k, r);
      }
    }
    log.printf(Locale.ROOT, "train-head: %d folds of %d rows (%s), %d finished before%s%n", folds, x.length,
        options.shuffle() ? "parts of the Random(" + options.seed() + ") permutation" : "parts in file order",
        done.size(), only == null ? "" : "; training fold " + only + " only");
    writeSummary(output, folds, x.length, options, splits, done, false);
    boolean trained = false;
    for (int k = 0; k < folds; k++) {
      if (only != null && k != only) {
        continue;
      }
      HeadTrainer.Result r = done.get(k);
      if (r != null) {
        log.printf(Locale.ROOT, "fold %d: finished before (best epoch %d, validation SCS %.5f)%n", k, r.bestEpoch(),
            r.bestValScs());
        continue;
      }
      log.printf(Locale.ROOT, "fold %d of %d: validating on %d rows, training on %d%n", k, folds,
          splits.get(k).validation().length, splits.get(k).train().length);
      r = trainers.get(k).run(x, y);
      done.put(k, r);
      trained = true;
      writeSummary(output, folds, x.length, options, splits, done, false);
      log.printf(Locale.ROOT, "fold %d: best epoch %d, validation SCS %.5f%n", k, r.bestEpoch(), r.bestValScs());
    }
    boolean complete = done.size() == folds;
    if (complete && (trained || !Files.exists(output.resolve(OOF)))) {
      writeOof(output, features, x, splits);
    }
    return writeSummary(output, folds, x.length, options, splits, done, complete);
  }

  /** Each row's eval-mode prediction by the best head of the fold it validates in, as {@value #OOF}. */
  private static void writeOof(Path output, Path features, float[][] x, List<RowSplit> splits) throws IOException {
    float[][] oof = new float[x.length][];
    for (int k = 0; k < splits.size(); k++) {
      Path file = output.resolve(foldName(k)).resolve(HeadTrainer.HEAD);
      int[] rows = splits.get(k).validation();
      float[][] pred = HeadTrainer.predictRows(RegressionHead.load(file, 0), file, HeadTrainer.pick(x, rows), features.toString());
      for (int i = 0; i < rows.length; i++) {
        oof[rows[i]] = pred[i];
      }
    }
    Npy.writeFloat32(output.resolve(OOF), oof);
  }

  /** The summary of the finished folds, written as {@value #FOLDS_JSON}. */
  private static Result writeSummary(Path output, int folds, int rows, HeadTrainer.Options o, List<RowSplit> splits,
                                     Map<Integer, HeadTrainer.Result> done, boolean complete) throws IOException {
    List<Fold> finished = new ArrayList<>();
    List<Integer> missing = new ArrayList<>();
    double sum = 0;
    double weighted = 0;
    long validated = 0;
    for (int k = 0; k < folds; k++) {
      HeadTrainer.Result r = done.get(k);
      if (r == null) {
        missing.add(k);
        continue;
      }
      int n = splits.get(k).validation().length;
      finished.add(new Fold(k, n, r));
      sum += r.bestValScs();
      weighted += r.bestValScs() * n;
      validated += n;
    }
    double mean = finished.isEmpty() ? Double.NaN : sum / finished.size();
    double var = 0;
    for (Fold f : finished) {
      var += (f.run().bestValScs() - mean) * (f.run().bestValScs() - mean);
    }
    double std = finished.isEmpty() ? Double.NaN : Math.sqrt(var / finished.size());
    double oofScs = validated == 0 ? Double.NaN : weighted / validated;

    ObjectNode j = JSON.createObjectNode();
    j.put("folds", folds).put("rows", rows).put("shuffle", o.shuffle()).put("seed", o.seed());
    j.put("split", "fold k validates on rows [floor(k*N/K), floor((k+1)*N/K)) of "
        + (o.shuffle() ? "the java.util.Random(seed) permutation" : "the file order") + " and trains on the others");
    ArrayNode fin = j.putArray("finished");
    finished.forEach(f -> fin.add(f.fold()));
    ArrayNode mis = j.putArray("missing");
    missing.forEach(mis::add);
    ArrayNode per = j.putArray("per_fold");
    for (Fold f : finished) {
      List<HeadTrainer.Epoch> h = f.run().epochs();
      ObjectNode n = per.addObject().put("fold", f.fold()).put("dir", foldName(f.fold()))
          .put("validation_rows", f.validationRows()).put("best_epoch", f.run().bestEpoch());
      putNumber(n, "best_val_scs", f.run().bestValScs());
      putNumber(n, "last_val_scs", h.isEmpty() ? Double.NaN : h.get(h.size() - 1).valScs());
      n.put("epochs", h.size()).put("steps", f.run().steps());
    }
    putNumber(j, "mean_val_scs", mean);
    putNumber(j, "std_val_scs", std);
    putNumber(j, "oof_scs", oofScs);
    if (complete) {
      j.put("oof", OOF);
    } else {
      j.putNull("oof");
    }
    AtomicFiles.write(output.resolve(FOLDS_JSON), out -> out.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(j)));
    return new Result(folds, List.copyOf(finished), List.copyOf(missing), mean, std, oofScs, complete);
  }

  /**
   * The mean of the eval-mode predictions of every fold head of the k-fold run in {@code dir} for the feature rows
   * {@code x} (read from {@code features}), summed in double in fold order, divided by K, rounded to float32. A run
   * with folds not finished is refused, naming them.
   */
  static float[][] predictMean(Path dir, float[][] x, String features) throws IOException {
    Path summary = dir.resolve(FOLDS_JSON);
    JsonNode j = JSON.readTree(summary.toFile());
    int folds = j.path("folds").asInt();
    if (folds < 2 || !j.path("finished").isArray()) {
      throw new IllegalArgumentException(summary + ": not a train-head --folds summary (no 'folds' ≥ 2 and 'finished')");
    }
    List<Integer> finished = new ArrayList<>();
    j.path("finished").forEach(n -> finished.add(n.asInt()));
    List<Integer> missing = new ArrayList<>();
    for (int k = 0; k < folds; k++) {
      if (!finished.contains(k) || !Files.isRegularFile(dir.resolve(foldName(k)).resolve(HeadTrainer.HEAD))) {
        missing.add(k);
      }
    }
    if (!missing.isEmpty()) {
      throw new FileNotFoundException(dir + ": fold" + (missing.size() > 1 ? "s " : " ")
          + missing.stream().map(String::valueOf).collect(Collectors.joining(", ")) + " of this " + folds
          + "-fold run " + (missing.size() > 1 ? "are" : "is") + " missing (not finished per " + FOLDS_JSON
          + "); finish them with train-head --folds " + folds + " on this folder");
    }
    double[][] sum = null;
    for (int k = 0; k < folds; k++) {
      Path file = dir.resolve(foldName(k)).resolve(HeadTrainer.HEAD);
      float[][] pred = HeadTrainer.predictRows(RegressionHead.load(file, 0), file, x, features);
      if (sum == null) {
        sum = new double[x.length][pred.length == 0 ? 0 : pred[0].length];
      } else if (pred.length > 0 && pred[0].length != sum[0].length) {
        throw new IllegalArgumentException(file + " predicts " + pred[0].length + " values a row, "
            + foldName(0) + " predicts " + sum[0].length);
      }
      for (int i = 0; i < pred.length; i++) {
        for (int c = 0; c < pred[i].length; c++) {
          sum[i][c] += pred[i][c];
        }
      }
    }
    float[][] out = new float[x.length][];
    for (int i = 0; i < x.length; i++) {
      out[i] = new float[sum[i].length];
      for (int c = 0; c < out[i].length; c++) {
        out[i][c] = (float) (sum[i][c] / folds);
      }
    }
    return out;
  }

  private static void putNumber(ObjectNode n, String key, double v) {
    if (Double.isNaN(v)) {
      n.putNull(key);
    } else {
      n.put(key, v);
    }
  }
}
