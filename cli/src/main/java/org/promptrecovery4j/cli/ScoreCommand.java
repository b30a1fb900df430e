package org.promptrecovery4j.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.evaluation.Metric;
import org.promptrecovery4j.evaluation.Submission;
import org.promptrecovery4j.models.builtin.BuiltinModels;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;
import org.promptrecovery4j.models.sentence.SentenceTransformer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code score}: the competition metric of a submission against the truth. */
@Command(
    name = "score",
    mixinStandardHelpOptions = true,
    description = {
      "Score a submission: mean sharpened cosine similarity (cos^exponent) of the sentence-t5 embeddings of the",
      "predicted and true rewrite_prompt, joined on id. Blank or missing predictions, duplicate and unknown ids are",
      "errors naming the ids. Prints the mean; --per-row writes id,score,predicted,truth.",
      "--kaggle-compat: tokenize like the TensorFlow sentence-t5 the competition used (max 128 tokens, a literal",
      "</s> in a text is plain characters) instead of PyTorch sentence-transformers (max_seq_length 256,",
      "</s> the end-of-sequence token).",
      "--model all-MiniLM-L6-v2 (built in, no download) gives a proxy score, said on stderr."
    })
public final class ScoreCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "sentence-t5 sentence-transformers folder; the built-in"
      + " all-MiniLM-L6-v2 gives a proxy score")
  String model;

  @Option(names = "--truth", required = true, description = "CSV with id,rewrite_prompt")
  Path truth;

  @Option(names = "--predictions", required = true, description = "submission CSV with id,rewrite_prompt")
  Path predictions;

  @Option(names = "--per-row", description = "write per-row scores here (CSV)")
  Path perRow;

  @Option(names = "--exponent", defaultValue = "3", description = "sharpening exponent (default ${DEFAULT-VALUE})")
  double exponent;

  @Option(names = "--batch-size", defaultValue = "32", description = "texts per forward pass (default ${DEFAULT-VALUE})")
  int batchSize;

  @Option(names = "--kaggle-compat", description = "tokenize as the competition's TensorFlow sentence-t5 (see above)")
  boolean kaggleCompat;

  @Override
  public Integer call() throws Exception {
    Submission.Joined joined = Submission.join(Submission.read(truth), Submission.read(predictions));
    Path dir = BuiltinModels.resolve(model);
    SentenceTransformer st = SentenceTransformer.load(dir);
    if (kaggleCompat && !st.isSentenceT5()) {
      throw new IllegalArgumentException("--kaggle-compat reproduces the competition's TensorFlow sentence-t5; "
          + model + " is not a sentence-t5 model");
    }
    if (!st.isSentenceT5()) {
      System.err.println("note: this score is a PROXY under " + (BuiltinModels.isBuiltin(model)
          ? BuiltinModels.canonicalName(model) : dir.getFileName()) + ", not the competition's metric, which embeds"
          + " with sentence-t5-base; give --model a sentence-t5-base folder for the real score");
    }
    SentenceEmbedder embedder = new SentenceEmbedder(st, TextEncoders.forModel(dir, st, kaggleCompat), batchSize);
    Metric metric = new Metric(embedder::embed, exponent);
    double[] rows = metric.rowScores(joined.predicted(), joined.truth());
    if (perRow != null) {
      List<List<String>> out = new ArrayList<>();
      for (int i = 0; i < rows.length; i++) {
        out.add(List.of(joined.ids().get(i), String.format(Locale.ROOT, "%.6f", rows[i]), joined.predicted().get(i),
            joined.truth().get(i)));
      }
      Csv.write(perRow, List.of("id", "score", "predicted", "truth"), out);
    }
    System.out.printf(Locale.ROOT, "%.6f%n", Metric.mean(rows));
    return 0;
  }
}
