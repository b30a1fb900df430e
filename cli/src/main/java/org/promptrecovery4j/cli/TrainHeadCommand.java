package org.promptrecovery4j.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.promptrecovery4j.training.head.HeadFolds;
import org.promptrecovery4j.training.head.HeadLoss;
import org.promptrecovery4j.training.head.HeadTrainer;
import org.promptrecovery4j.training.optim.AdamW;
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

  @Option(names = "--init", description = "start from this head (safetensors with the seed's names) instead of a fresh one")
  Path init;

  @Option(names = "--no-shuffle", description = "train rows in file order")
  boolean noShuffle;

  @Option(names = "--epochs", defaultValue = "10", description = "epochs (default ${DEFAULT-VALUE})")
  int epochs;

  @Option(names = "--steps", defaultValue = "0", description = "optimiser steps in total; overrides --epochs when > 0")
  int steps;

  @Option(names = "--batch-size", defaultValue = "4", description = "rows per step (default ${DEFAULT-VALUE}, at least 2)")
  int batchSize;

  @Option(names = "--lr", defaultValue = "1e-3", description = "learning rate (default ${DEFAULT-VALUE})")
  double lr;

  @Option(names = "--betas", defaultValue = "0.85,0.999", description = "AdamW betas B1,B2 (default ${DEFAULT-VALUE})")
  String betas;

  @Option(names = "--eps", defaultValue = "1e-8", description = "AdamW epsilon (default ${DEFAULT-VALUE})")
  double eps;

  @Option(names = "--weight-decay", defaultValue = "0.005", description = "decoupled weight decay, every parameter (default ${DEFAULT-VALUE})")
  double weightDecay;

  @Option(names = "--max-grad-norm", defaultValue = "1.0", description = "clip_grad_norm_ limit, 0 = off (default ${DEFAULT-VALUE})")
  double maxGradNorm;

  @Option(names = "--loss", defaultValue = "cosine", description = "cosine, scs or mse (default ${DEFAULT-VALUE})")
  String loss;

  @Option(names = "--val-fraction", description = "rows held out for validation SCS, 0 = none (default 0.1; not with --folds)")
  Double valFraction;

  @Option(names = "--folds", description = "k-fold: train K >= 2 heads, fold k validating on part k of the rows")
  Integer folds;

  @Option(names = "--fold", description = "with --folds: train only fold I (0..K-1), e.g. one fold per machine")
  Integer fold;

  @Option(names = "--dropout", defaultValue = "0", description = "dropout on the input features in training (default ${DEFAULT-VALUE})")
  double dropout;

  @Option(names = "--seed", defaultValue = "42", description = "seed of the initial weights, shuffling, split and dropout (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--hidden", defaultValue = "32256", description = "hidden width of a fresh head (default ${DEFAULT-VALUE}, the seed's)")
  int hidden;

  @Override
  public Integer call() throws Exception {
    String[] b = betas.split(",");
    if (b.length != 2) {
      throw new IllegalArgumentException("--betas takes two numbers B1,B2, got '" + betas + "'");
    }
    AdamW.Settings adam;
    try {
      adam = new AdamW.Settings(lr, Double.parseDouble(b[0].strip()), Double.parseDouble(b[1].strip()), eps, weightDecay);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--betas takes two numbers B1,B2, got '" + betas + "'");
    }
    if (fold != null && folds == null) {
      throw new IllegalArgumentException("--fold " + fold + " needs --folds K");
    }
    double val = valFraction != null ? valFraction : folds != null ? 0 : 0.1;
    HeadTrainer.Options o = new HeadTrainer.Options(epochs, steps, batchSize, adam, maxGradNorm, HeadLoss.parse(loss),
        val, dropout, seed, hidden, !noShuffle, init);
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
