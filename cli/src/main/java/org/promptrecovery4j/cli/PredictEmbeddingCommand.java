package org.promptrecovery4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.promptrecovery4j.training.head.HeadTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code predict-embedding}: a trained head's eval-mode predictions, a thin shell over {@link HeadTrainer#predict}. */
@Command(
    name = "predict-embedding",
    mixinStandardHelpOptions = true,
    description = {
      "Predict embeddings from features with a head trained by train-head (eval mode: BatchNorm running"
          + " statistics); writes float32 .npy [N, out].",
      "A train-head --folds folder predicts the mean of its K fold heads' predictions (all folds must be finished)."
    })
public final class PredictEmbeddingCommand implements Callable<Integer> {

  @Option(names = "--head", required = true, description = "train-head's output folder (a --folds one: the mean of its fold heads), or a head .safetensors")
  Path head;

  @Option(names = "--features", required = true, description = "features, float32 .npy [N, in]")
  Path features;

  @Option(names = "--output", required = true, description = "predicted embeddings, .npy")
  Path output;

  @Override
  public Integer call() throws Exception {
    int n = HeadTrainer.predict(head, features, output);
    System.err.println("wrote " + n + " predicted embeddings to " + output);
    return 0;
  }
}
