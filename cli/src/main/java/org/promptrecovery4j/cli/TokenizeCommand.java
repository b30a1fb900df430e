package org.promptrecovery4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.promptrecovery4j.tokenizer.JsonlTokenization;
import org.promptrecovery4j.tokenizer.Tokenizer;
import org.promptrecovery4j.tokenizer.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code prompt-recovery tokenize}: {"text"} JSONL lines to {"ids", "tokens"} lines. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
    description = "Tokenize JSONL lines {\"text\": ...} into {\"ids\": [...], \"tokens\": [...]}, as HuggingFace does.")
public final class TokenizeCommand implements Callable<Integer> {
  @Option(names = "--tokenizer", required = true,
      description = "a tokenizer.json, a SentencePiece .model file, or a model folder")
  Path tokenizer;

  @Option(names = "--no-special-tokens", description = "do not add BOS/EOS/CLS/SEP around the text")
  boolean noSpecialTokens;

  @Option(names = "--input", required = true, description = "input JSONL, one {\"text\": ...} per line")
  Path input;

  @Option(names = "--output", required = true, description = "output JSONL (written atomically)")
  Path output;

  @Override
  public Integer call() throws Exception {
    Tokenizer tok = Tokenizers.load(tokenizer);
    JsonlTokenization.tokenize(tok, input, output, !noSpecialTokens);
    return 0;
  }
}
