package org.promptrecovery4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.promptrecovery4j.recovery.PredictJob;
import org.promptrecovery4j.recovery.RecoveryConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code predict}: the main job, a thin shell over {@link PredictJob#run}. */
@Command(
    name = "predict",
    mixinStandardHelpOptions = true,
    description = {
      "Recover the prompt of every row of a Kaggle CSV (id,original_text,rewritten_text) and write a submission"
          + " (id,rewrite_prompt; every id once, never a blank prompt).",
      "Resumable: a killed run started again with the same arguments continues where it stopped (OUTPUT.partial).",
      "Without --config: the embedded default, the built-in zero-shot recoverer (no model folder, no download)."
    })
public final class PredictCommand implements Callable<Integer> {

  @Option(names = "--input", required = true, description = "rows: id,original_text,rewritten_text (other columns ignored)")
  Path input;

  @Option(names = "--output", required = true, description = "the submission CSV")
  Path output;

  @Option(names = "--config", description = "recovery.json: recoverers, model folders, banks, ensemble (docs/pipeline.md)")
  Path config;

  @Override
  public Integer call() throws Exception {
    RecoveryConfig c;
    if (config == null) {
      c = RecoveryConfig.embeddedDefault();
      System.err.println("predict: no --config: the embedded default, the built-in zero-shot recoverer"
          + " (all-MiniLM-L6-v2 and the built-in bank of rewrite prompts; no model folder, no download)");
    } else {
      c = RecoveryConfig.read(config);
    }
    PredictJob.run(input, output, c, System.err);
    return 0;
  }
}
