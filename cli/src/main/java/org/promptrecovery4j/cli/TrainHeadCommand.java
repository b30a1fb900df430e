package org.promptrecovery4j.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.promptrecovery4j.training.head.HeadFolds;
import org.promptrecovery4j.training.head.HeadTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code train-head}: the seed's regression head on cached features, a thin shell over {@link HeadTrainer}. */
@Command(
    name = "train-head",
    mixinStandardHelpOptions = true,
    description = {
      "Train the seed's embedding-regression head (Linear → BatchNorm1d → ReLU → Linear) with AdamW on features"
          + " (.npy [N, in]) against target embeddings (.npy [N, out]).",
      "Writes DIR/head.safetensors (PyTorch's names: head.0.weight, head.1.running_mean, ...; the best epoch by"
          + " validation SCS), DIR/head_config.json and DIR/train_state.safetensors (resumes a killed run).",
      "With --no-shuffle and --val-fraction 0, step i of an epoch trains rows [i*B, (i+1)*B) of the files.",
      "--folds K: K heads, DIR/fold-k/ (k = 0..K-1) validating on part k of the seeded permutation (file order with"
          + " --no-shuffle) and training on the rest; DIR/folds.json (per-fold best epoch and SCS, mean, std,"
          + " out-of-fold SCS) and, once all folds are done, DIR/oof.npy. Rerun to resume; --fold I trains one fold."
    })
public final class TrainHeadCommand implements Callable<Integer> {

  @Option(names = "--features", required = true, description = "features, float32 .npy [N, in]")
  Path features;

  @Option(names = "--targets", required = true, description = "target embeddings, float32 .npy [N, out]")
  Path targets;

  @Option(names = "--output", required = true, description = "output folder (an existing run with the same settings resumes)")
  Path output;

  @Option(names = "--val-fraction", description = "rows held out for validation SCS, 0 = none (default 0.1; not with --folds)")
  Double valFraction;

  @Option(names = "--folds", description = "k-fold: train K >= 2 heads, fold k validating on part k of the rows")
  Integer folds;

  @Option(names = "--fold", description = "with --folds: train only fold I (0..K-1), e.g. one fold per machine")
  Integer fold;

  @Option(names = "--dropout", defaultValue = "0", description = "dropout on the input features in training (default ${DEFAULT-VALUE})")
  double dropout;

  @picocli.CommandLine.Mixin
  HeadTrainingOptions t = new HeadTrainingOptions();

  @Override
  public Integer call() throws Exception {
    if (fold != null && folds == null) {
      throw new IllegalArgumentException("--fold " + fold + " needs --folds K");
    }
    double val = valFraction != null ? valFraction : folds != null ? 0 : 0.1;
    HeadTrainer.Options o = new HeadTrainer.Options(t.epochs, t.steps, t.batchSize, t.adam(), t.maxGradNorm,
        t.headLoss(), val, dropout, t.seed, t.hidden, !t.noShuffle, t.init);
    if (folds != null) {
      HeadFolds.Result r = HeadFolds.train(features, targets, output, o, folds, fold, System.err);
      System.err.printf(Locale.ROOT, "train-head: %d of %d folds finished%s: best validation SCS %.5f ± %.5f (mean ± std"
          + " over folds), out-of-fold SCS %.5f%s%n", r.finished().size(), r.folds(),
          r.missing().isEmpty() ? "" : " (missing: " + r.missing() + ")", r.meanScs(), r.stdScs(), r.oofScs(),
          r.complete() ? "; wrote " + output.resolve(HeadFolds.OOF) : "");
      return 0;
    }
    HeadTrainer.Result r = HeadTrainer.train(features, targets, output, o, System.err);
    HeadTrainer.Epoch best = r.epochs().get(r.bestEpoch() - 1);
    System.err.printf(Locale.ROOT, "wrote %s (epoch %d%s) after %d steps%n", output.resolve(HeadTrainer.HEAD),
        best.epoch(), Double.isNaN(best.valScs()) ? "" : String.format(Locale.ROOT, ", validation SCS %.5f", best.valScs()),
        r.steps());
    return 0;
  }
}
