package org.promptrecovery4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.promptrecovery4j.recovery.RewriteJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rewrite}: training data made with an instruct model, a thin shell over {@link RewriteJob#run}. */
@Command(
    name = "rewrite",
    mixinStandardHelpOptions = true,
    description = {
      "Rewrite originals with prompts through an instruct model, as the competition's data was made: each pair is one",
      "user turn '<prompt>\\n\\n<original>' in the model's chat template; the answer, cleaned by the seed's fix_prompt,",
      "is the rewritten text. Output: id,original_text,rewritten_text,rewrite_prompt (ids t<i>-p<j>: the i-th distinct",
      "original with the j-th prompt). Pairs: every original with every prompt, or --pairs N drawn at random with",
      "--seed. Resumable: the same command again goes on from the last finished batch, to the same file."
    })
public final class RewriteCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "the instruct model's HF folder (tokenizer with a chat_template)")
  Path model;

  @Option(names = "--texts", required = true, description = "CSV with an original_text column")
  Path texts;

  @Option(names = "--prompts", required = true, description = "rewrite prompts: .json (array of strings), .txt (one a"
      + " line) or .csv (rewrite_prompt column)")
  Path prompts;

  @Option(names = "--output", required = true, description = "the CSV to write")
  Path output;

  @Option(names = "--max-new-tokens", defaultValue = "" + RewriteJob.Settings.DEFAULT_MAX_NEW_TOKENS,
      description = "tokens per rewrite at most (default ${DEFAULT-VALUE})")
  int maxNewTokens;

  @Option(names = "--batch-size", defaultValue = "" + RewriteJob.Settings.DEFAULT_BATCH_SIZE,
      description = "pairs generated together (default ${DEFAULT-VALUE})")
  int batchSize;

  @Option(names = "--seed", defaultValue = "0", description = "seed of --pairs and of sampling (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--pairs", description = "this many distinct random (original, prompt) pairs (default: all of them)")
  Integer pairs;

  @Option(names = "--temperature", description = "sample with this temperature (default: greedy)")
  Double temperature;

  @Option(names = "--top-p", defaultValue = "1.0", description = "nucleus sampling mass (default ${DEFAULT-VALUE})")
  double topP;

  @Mixin
  DecoderComputeOption compute = new DecoderComputeOption();

  @Override
  public Integer call() throws Exception {
    RewriteJob.Result r = RewriteJob.run(new RewriteJob.Settings(model, texts, prompts, output, maxNewTokens, batchSize,
        seed, pairs, temperature, topP, compute.storage()));
    System.err.println("wrote " + r.rows() + " rows to " + output
        + (r.resumedRows() > 0 ? " (" + r.resumedRows() + " from an earlier run)" : "")
        + (r.emptyRewrites() > 0 ? "; " + r.emptyRewrites() + " rewrites emptied by cleaning (refusals)" : ""));
    return 0;
  }
}
