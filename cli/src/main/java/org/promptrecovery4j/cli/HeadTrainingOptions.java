package org.promptrecovery4j.cli;

import java.nio.file.Path;
import org.promptrecovery4j.training.head.HeadLoss;
import org.promptrecovery4j.training.optim.AdamW;
import picocli.CommandLine.Option;

/** The options {@code train-head} and {@code train-regressor} share: the run's length, AdamW and the head. */
final class HeadTrainingOptions {

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

  @Option(names = "--lr", defaultValue = "1e-3", description = "the head's learning rate (default ${DEFAULT-VALUE})")
  double lr;

  @Option(names = "--betas", defaultValue = "0.85,0.999", description = "AdamW betas B1,B2 (default ${DEFAULT-VALUE})")
  String betas;

  @Option(names = "--eps", defaultValue = "1e-8", description = "AdamW epsilon (default ${DEFAULT-VALUE})")
  double eps;

  @Option(names = "--weight-decay", defaultValue = "0.005", description = "decoupled weight decay, every trainable"
      + " parameter (default ${DEFAULT-VALUE})")
  double weightDecay;

  @Option(names = "--max-grad-norm", defaultValue = "1.0", description = "clip_grad_norm_ limit over all trainable"
      + " parameters, 0 = off (default ${DEFAULT-VALUE})")
  double maxGradNorm;

  @Option(names = "--loss", defaultValue = "cosine", description = "cosine, scs or mse (default ${DEFAULT-VALUE})")
  String loss;

  @Option(names = "--seed", defaultValue = "42", description = "seed of the initial head, shuffling, split and dropout"
      + " (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--hidden", defaultValue = "32256", description = "hidden width of a fresh head (default"
      + " ${DEFAULT-VALUE}, the seed's)")
  int hidden;

  /** AdamW's settings from --lr, --betas, --eps and --weight-decay. */
  AdamW.Settings adam() {
    String[] b = betas.split(",");
    try {
      if (b.length == 2) {
        return new AdamW.Settings(lr, Double.parseDouble(b[0].strip()), Double.parseDouble(b[1].strip()), eps, weightDecay);
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new IllegalArgumentException("--betas takes two numbers B1,B2, got '" + betas + "'");
  }

  HeadLoss headLoss() {
    return HeadLoss.parse(loss);
  }
}
