package org.promptrecovery4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.promptrecovery4j.recovery.RewrittenTextCleaner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code clean}: the seed's fix_prompt on a Kaggle CSV's rewritten_text, a thin shell over {@link RewrittenTextCleaner#cleanCsv}. */
@Command(
    name = "clean",
    mixinStandardHelpOptions = true,
    description = {
      "Clean the rewritten_text of a Kaggle CSV as the seed's fix_prompt does (Python's exact results): a refusal",
      "('I am unable to', 'therefore ... I cannot', ...) empties the text; lead-ins ('Sure, here ...:', 'Summary of",
      "...\\n\\n', ...) are cut; a leading '**\\n\\n' or 'user' is cut and the rest stripped. Every column is kept, in",
      "order; the output is written atomically. Prints how many rows each rule changed."
    })
public final class CleanCommand implements Callable<Integer> {

  @Option(names = "--input", required = true, description = "Kaggle CSV: id,original_text,rewritten_text[,rewrite_prompt,...]")
  Path input;

  @Option(names = "--output", required = true, description = "the cleaned CSV (same columns)")
  Path output;

  @Override
  public Integer call() throws Exception {
    RewrittenTextCleaner.Report report = RewrittenTextCleaner.cleanCsv(input, output);
    System.out.print(report.format());
    System.err.println("wrote " + report.rows() + " rows to " + output);
    return 0;
  }
}
