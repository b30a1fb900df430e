package org.promptrecovery4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.promptrecovery4j.tokenizer.JsonlTokenization;
import org.promptrecovery4j.tokenizer.Tokenizer;
import org.promptrecovery4j.tokenizer.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code prompt-recovery detokenize}: {"ids"} JSONL lines to {"text"} lines. */
@Command(name = "detokenize", mixinStandardHelpOptions = true,
    description = "Decode JSONL lines {\"ids\": [...]} into {\"text\": ...}, as HuggingFace does.")
public final class DetokenizeCommand implements Callable<Integer> {
  @Option(names = "--tokenizer", required = true,
      description = "a tokenizer.json, a SentencePiece .model file, or a model folder")
  Path tokenizer;

  @Option(names = "--skip-special-tokens", description = "leave special tokens out of the text")
  boolean skipSpecialTokens;

  @Option(names = "--input", required = true, description = "input JSONL, one {\"ids\": [...]} per line")
  Path input;

  @Option(names = "--output", required = true, description = "output JSONL (written atomically)")
  Path output;

  @Override
  public Integer call() throws Exception {
    Tokenizer tok = Tokenizers.load(tokenizer);
    JsonlTokenization.detokenize(tok, input, output, skipSpecialTokens);
    return 0;
  }
}
