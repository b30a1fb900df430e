package org.promptrecovery4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.promptrecovery4j.models.builtin.BuiltinModels;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;
import org.promptrecovery4j.recovery.EvaluateJob;
import org.promptrecovery4j.recovery.RecoveryConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code evaluate}: a thin shell over {@link EvaluateJob#run}. */
@Command(
    name = "evaluate",
    mixinStandardHelpOptions = true,
    description = {
      "Predict on labelled rows (id,original_text,rewritten_text,rewrite_prompt) and score every recoverer of the"
          + " config and their ensemble (mean sharpened cosine, cos^3); a row's true prompt is left out of every"
          + " bank and example set that answers it.",
      "Writes a per-row CSV (answers and scores) and a PNG of the score histograms."
    })
public final class EvaluateCommand implements Callable<Integer> {

  @Option(names = "--input", required = true, description = "labelled rows")
  Path input;

  @Option(names = "--output", required = true, description = "per-row CSV; the PNG goes beside it (.png)")
  Path output;

  @Option(names = "--config", description = "recovery.json (default: the embedded default)")
  Path config;

  @Option(names = "--scorer", defaultValue = BuiltinModels.ALL_MINILM_L6_V2, description = "the encoder that scores:"
      + " a sentence-t5-base folder (the competition's metric) or the built-in all-MiniLM-L6-v2, a proxy (default)")
  String scorer;

  @Override
  public Integer call() throws Exception {
    RecoveryConfig c = config == null ? RecoveryConfig.embeddedDefault() : RecoveryConfig.read(config);
    SentenceEmbedder s = BuiltinModels.isBuiltin(scorer) ? BuiltinModels.allMiniLmL6V2()
        : SentenceEmbedder.load(Path.of(scorer), 16);
    String scorerName = BuiltinModels.isBuiltin(scorer) ? BuiltinModels.canonicalName(scorer)
        : Path.of(scorer).getFileName().toString();
    EvaluateJob.run(input, output, c, s.memoize(100_000), scorerName, System.err);
    return 0;
  }
}
