package org.promptrecovery4j.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.promptrecovery4j.training.head.RegressorTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code train-regressor}: the seed's model fine-tuned through DeBERTa's top layers, a thin shell over {@link RegressorTrainer}. */
@Command(
    name = "train-regressor",
    mixinStandardHelpOptions = true,
    description = {
      "Fine-tune the seed's embedding-regression model end to end: DeBERTa (its top --unfreeze layers trainable) →"
          + " the seed's features → head (Linear → BatchNorm1d → ReLU → Linear), with AdamW, on a CSV of rows"
          + " (id, original_text, rewritten_text) against target embeddings (.npy [N, out], row i for CSV row i).",
      "Writes DIR/head.safetensors and DIR/head_config.json (as train-head; the best epoch by validation SCS),"
          + " DIR/deberta/ (a HF DeBERTa folder of the same epoch: `features --model DIR/deberta` computes its"
          + " features) and DIR/train_state.safetensors (resumes a killed run)."
    })
public final class TrainRegressorCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "HF DeBERTa-v2/v3 folder (e.g. deberta-v3-large) with its tokenizer")
  Path model;

  @Option(names = "--data", required = true, description = "CSV with columns original_text and rewritten_text (and id)")
  Path data;

  @Option(names = "--targets", required = true, description = "target embeddings, float32 .npy [N, out], one row per CSV row")
  Path targets;

  @Option(names = "--output", required = true, description = "output folder (an existing run with the same settings resumes)")
  Path output;

  @Option(names = "--unfreeze", required = true,
      description = "top encoder layers to train: N (0 = the head alone, through DeBERTa), or 'all' (every layer,"
          + " the relative-position table and its LayerNorm; the embeddings stay frozen)")
  String unfreeze;

  @Option(names = "--max-length", defaultValue = "384", description = "tokens per text, [CLS] and [SEP] included (default ${DEFAULT-VALUE})")
  int maxLength;

  @Option(names = "--deberta-lr", defaultValue = "2e-5", description = "DeBERTa's learning rate (default ${DEFAULT-VALUE})")
  double debertaLr;

  @Option(names = "--val-fraction", defaultValue = "0.1", description = "rows held out for validation SCS, 0 = none (default ${DEFAULT-VALUE})")
  double valFraction;

  @Option(names = "--save-every", defaultValue = "0", description = "also checkpoint every N steps (default ${DEFAULT-VALUE}: after each epoch only)")
  int saveEvery;

  @picocli.CommandLine.Mixin
  HeadTrainingOptions t = new HeadTrainingOptions();

  @Override
  public Integer call() throws Exception {
    RegressorTrainer.Options o = new RegressorTrainer.Options(layers(unfreeze), maxLength, t.epochs, t.steps, t.batchSize,
        t.adam(), debertaLr, t.maxGradNorm, t.headLoss(), valFraction, t.seed, t.hidden, !t.noShuffle, t.init, saveEvery);
    RegressorTrainer.Result r = RegressorTrainer.train(model, data, targets, output, o, System.err);
    RegressorTrainer.Epoch best = r.epochs().get(r.bestEpoch() - 1);
    System.err.printf(Locale.ROOT, "wrote %s and %s (epoch %d%s) after %d steps%n", output.resolve(RegressorTrainer.HEAD),
        output.resolve(RegressorTrainer.DEBERTA), best.epoch(),
        Double.isNaN(best.valScs()) ? "" : String.format(Locale.ROOT, ", validation SCS %.5f", best.valScs()), r.steps());
    return 0;
  }

  static int layers(String unfreeze) {
    if (unfreeze.strip().equalsIgnoreCase("all")) {
      return RegressorTrainer.ALL;
    }
    try {
      int n = Integer.parseInt(unfreeze.strip());
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new IllegalArgumentException("--unfreeze takes a number of layers >= 0 or 'all', got '" + unfreeze + "'");
  }
}
