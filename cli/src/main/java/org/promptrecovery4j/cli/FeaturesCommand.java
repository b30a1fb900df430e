package org.promptrecovery4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.promptrecovery4j.models.nn.LinearPrecision;
import org.promptrecovery4j.training.features.DebertaFeatures;
import org.promptrecovery4j.training.features.FeatureJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code features}: the seed's frozen DeBERTa features of (original, rewritten) rows, resumable. */
@Command(
    name = "features",
    mixinStandardHelpOptions = true,
    description = {
      "DeBERTa features of (original, rewritten) CSV rows, as the seed's regression model uses them: for each text the"
          + " attention-masked mean of the last and of the second-to-last hidden layer; per row"
          + " [original last, original second-last, rewritten last, rewritten second-last] = 4 x hidden float32.",
      "Output: .npy [rows, 4 x hidden], rows in input order. Resumable: finished batches are kept in OUTPUT.partial"
          + " (+ OUTPUT.partial.json); rerun the same command after a kill to go on."
    })
public final class FeaturesCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "DeBERTa-v2/v3 folder with its tokenizer (e.g. deberta-v3-large)")
  Path model;

  @Option(names = "--input", required = true, description = "CSV with the two text columns")
  Path input;

  @Option(names = "--output", required = true, description = "features .npy")
  Path output;

  @Option(names = "--batch-size", defaultValue = "8", description = "rows per batch (default ${DEFAULT-VALUE})")
  int batchSize;

  @Option(names = "--max-length", defaultValue = "" + DebertaFeatures.DEFAULT_MAX_LENGTH,
      description = "tokens per text, [CLS] and [SEP] included; longer texts are cut (default ${DEFAULT-VALUE})")
  int maxLength;

  @Option(names = "--original-column", defaultValue = "original_text", description = "(default ${DEFAULT-VALUE})")
  String originalColumn;

  @Option(names = "--rewritten-column", defaultValue = "rewritten_text", description = "(default ${DEFAULT-VALUE})")
  String rewrittenColumn;

  @Option(names = "--compute", defaultValue = "float32",
      description = "float32 or bf16: the precision of DeBERTa's linear layers; bf16 is faster on CPUs with AVX512_BF16,"
          + " its features within bf16 rounding of float32's (default ${DEFAULT-VALUE})")
  String compute;

  @Override
  public Integer call() throws Exception {
    if (!output.getFileName().toString().endsWith(".npy")) {
      throw new IllegalArgumentException(output + ": the output must be .npy");
    }
    FeatureJob.Result r = FeatureJob.run(new FeatureJob.Settings(model, input, output, batchSize, maxLength,
        originalColumn, rewrittenColumn, LinearPrecision.parse(compute)));
    System.err.println("wrote features [" + r.rows() + ", " + r.width() + "] to " + output
        + (r.resumedRows() > 0 ? " (" + r.resumedRows() + " rows from the interrupted run)" : ""));
    return 0;
  }
}
