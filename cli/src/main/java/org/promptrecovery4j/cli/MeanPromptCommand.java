package org.promptrecovery4j.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.promptrecovery4j.core.AtomicFiles;
import org.promptrecovery4j.models.builtin.BuiltinModels;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;
import org.promptrecovery4j.recovery.MeanPromptSearch;
import org.promptrecovery4j.recovery.PromptBank;
import org.promptrecovery4j.recovery.WordVocabulary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mean-prompt}: the best constant answer for a prompt set, a thin shell over {@link MeanPromptSearch#run}. */
@Command(
    name = "mean-prompt",
    mixinStandardHelpOptions = true,
    description = {
      "Find one text whose embedding has the highest mean sharpened cosine (cos^3) against a set of prompts: the"
          + " best constant answer.",
      "Two searches, the better wins: greedy words from a vocabulary (default: the set's most frequent words) then"
          + " word edits (replace, delete, insert, swap) until none helps; and the same edits of the set's best"
          + " single prompt. Every candidate is embedded by the encoder, in batches; prompt and word embeddings are"
          + " cached.",
      "Prints the found text's score beside the best single prompt's; writes the text to --output."
    })
public final class MeanPromptCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "sentence-transformers folder (sentence-t5-base), or the"
      + " built-in all-MiniLM-L6-v2")
  String model;

  @Option(names = "--prompts", required = true, description = "the prompt set: .txt (one a line), .json (strings or"
      + " {\"prompt\": ...} objects), .csv (rewrite_prompt column), or builtin")
  String prompts;

  @Option(names = "--output", required = true, description = "the found text (one line)")
  Path output;

  @Option(names = "--vocabulary", description = "word list (one a line, in order of preference); default: the"
      + " prompts' most frequent words")
  Path vocabulary;

  @Option(names = "--vocabulary-size", defaultValue = "200", description = "words used (the most frequent; default"
      + " ${DEFAULT-VALUE})")
  int vocabularySize;

  @Option(names = "--max-words", defaultValue = "32", description = "longest text in words (default ${DEFAULT-VALUE})")
  int maxWords;

  @Option(names = "--shortlist", defaultValue = "24", description = "words tried per position and edit round, chosen"
      + " along the score's gradient (0 = all; default ${DEFAULT-VALUE})")
  int shortlist;

  @Option(names = "--max-evaluations", defaultValue = "0", description = "texts embedded per search at most (0 = until"
      + " no edit helps; default ${DEFAULT-VALUE})")
  int maxEvaluations;

  @Option(names = "--sample", defaultValue = "2000", description = "prompts the objective uses at most (a seeded"
      + " sample of a larger set; the final score is always against all; default ${DEFAULT-VALUE})")
  int sample;

  @Option(names = "--seed", defaultValue = "0", description = "seed of the sample (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--start", description = "only edit this text (instead of the two searches)")
  String start;

  @Option(names = "--batch-size", defaultValue = "64", description = "texts per forward pass (default ${DEFAULT-VALUE})")
  int batchSize;

  @Override
  public Integer call() throws Exception {
    MeanPromptSearch.Settings s = new MeanPromptSearch.Settings(vocabularySize, maxWords, shortlist, maxEvaluations,
        sample, seed);
    PromptBank set = PromptBank.load(prompts);
    List<String> words = vocabulary == null ? null : WordVocabulary.read(vocabulary, vocabularySize);
    Path dir = BuiltinModels.resolve(model);
    SentenceEmbedder encoder = SentenceEmbedder.load(dir, batchSize);
    MeanPromptSearch.Result r = MeanPromptSearch.run(encoder, dir, set, words, start, s, System.err);
    AtomicFiles.write(output, out -> out.write((r.text() + "\n").getBytes(StandardCharsets.UTF_8)));
    System.out.print(r.format());
    System.err.println("wrote the text to " + output);
    return 0;
  }
}
