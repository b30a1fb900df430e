package org.promptrecovery4j.recovery;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.promptrecovery4j.core.Progress;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;
import org.promptrecovery4j.training.features.DebertaFeatures;
import org.promptrecovery4j.training.head.HeadTrainer;

/**
 * The seed's embedding-regression recoverer ({@value #NAME}): the frozen DeBERTa features of each row's (original,
 * rewritten) pair ({@link DebertaFeatures}) → the trained regression head ({@link HeadTrainer#predict(Path, float[][],
 * String)}; a k-fold folder gives the mean of its fold heads) → a predicted sentence-t5 embedding → the nearest
 * prompts of a sentence-t5-embedded bank ({@link EmbeddingRetrieval}) → the top 1, or the top k joined by the
 * separator ({@link TopKChoice} picks k on labelled rows). Optionally, the answer is then refined by word edits that
 * raise its cosine to the predicted embedding ({@link Inversion}, the competition's second-place idea).
 *
 * <p>Made from plain parameters ({@link #load}): the DeBERTa folder, the head (a {@code head.safetensors}, a
 * train-head folder or a k-fold folder), the sentence-t5 folder, the bank (a {@link PromptBank} spec, embedded
 * with sentence-t5 and cached, or a precomputed {@link EmbeddedBank} file) and {@link Settings}.
 */
public final class RegressorRecoverer implements PromptRecoverer {

  public static final String NAME = "regressor";

  /**
   * The inversion search ({@link WordEditSearch#improve} of the retrieved answer towards the predicted embedding):
   * vocabulary = the bank's {@code vocabularySize} most frequent words (embedded once with sentence-t5, cached),
   * {@code shortlist} words tried per position and round, at most {@code maxEvaluations} texts embedded per row
   * (the cost: each is one sentence-t5 forward pass), at most {@code maxWords} words (a longer answer is edited and
   * shortened, never lengthened).
   */
  public record Inversion(int vocabularySize, int shortlist, int maxEvaluations, int maxWords) {
    public Inversion {
      if (vocabularySize < 1 || shortlist < 1 || maxEvaluations < 1 || maxWords < 1 || maxWords > 256) {
        throw new IllegalArgumentException("inversion: vocabulary size, shortlist and max evaluations must be at least"
            + " 1 and max words in [1, 256]: " + vocabularySize + ", " + shortlist + ", " + maxEvaluations + ", " + maxWords);
      }
    }

    public static Inversion defaults() {
      return new Inversion(1000, 16, 200, 48);
    }
  }

  /**
   * How rows are answered: the top {@code topK} prompts joined by {@code separator}; features of at most
   * {@code maxLength} tokens per text ({@value DebertaFeatures#DEFAULT_MAX_LENGTH}, the seed's), {@code batchSize}
   * rows per DeBERTa pass; {@code inversion} null for none.
   */
  public record Settings(int topK, String separator, int maxLength, int batchSize, Inversion inversion) {
    public Settings {
      if (topK < 1 || topK > 100 || maxLength < 2 || batchSize < 1) {
        throw new IllegalArgumentException("regressor: top k must be in [1, 100], max length at least 2 and batch size"
            + " at least 1: " + topK + ", " + maxLength + ", " + batchSize);
      }
    }

    /** Top 1, a space, 384 tokens, 8 rows a batch, no inversion. */
    public static Settings defaults() {
      return new Settings(1, " ", DebertaFeatures.DEFAULT_MAX_LENGTH, 8, null);
    }

    public Settings withTopK(int k) {
      return new Settings(k, separator, maxLength, batchSize, inversion);
    }

    public Settings withInversion(Inversion i) {
      return new Settings(topK, separator, maxLength, batchSize, i);
    }
  }

  private final DebertaFeatures features;
  private final Path head;
  private final SentenceEmbedder sentenceT5;
  private final Path sentenceT5Dir;
  private final EmbeddingRetrieval retrieval;
  private final Settings settings;
  private WordEditSearch inversionSearch;

  /**
   * From parts: {@code sentenceT5} (and its folder) may be null when the bank is precomputed and there is no
   * inversion.
   */
  public RegressorRecoverer(DebertaFeatures features, Path head, SentenceEmbedder sentenceT5, Path sentenceT5Dir,
      EmbeddedBank bank, Settings settings) {
    if (settings.inversion() != null && sentenceT5 == null) {
      throw new IllegalArgumentException("regressor: the inversion search needs the sentence-t5 folder");
    }
    this.features = features;
    this.head = head;
    this.sentenceT5 = sentenceT5;
    this.sentenceT5Dir = sentenceT5Dir;
    this.retrieval = new EmbeddingRetrieval(bank);
    this.settings = settings;
  }

  /**
   * From plain parameters (what a config names): the DeBERTa folder, the head, the sentence-t5 folder (null allowed
   * with a precomputed bank and no inversion), the bank — {@code builtin}, a prompt list (.txt/.json/.csv, see
   * {@link PromptBank#load(String)}) embedded with sentence-t5 and cached ({@link EmbeddedBank#embed}), or a
   * precomputed embedded bank ({@code .npy} with its prompt list, or a {@code .json} of {prompt, embedding}) — and
   * the settings. The embeddings of the bank must be those of the same sentence-t5 the head was trained on.
   */
  public static RegressorRecoverer load(Path deberta, Path head, Path sentenceT5, String bank, Settings settings)
      throws IOException {
    DebertaFeatures f = DebertaFeatures.open(deberta, settings.maxLength());
    if (!Files.exists(head)) {
      throw new java.io.FileNotFoundException(head + ": no such head (a head.safetensors, a train-head folder or a"
          + " train-head --folds folder)");
    }
    SentenceEmbedder st5 = sentenceT5 == null ? null : SentenceEmbedder.load(sentenceT5, 32);
    EmbeddedBank embedded;
    if (isEmbeddedBank(bank)) {
      embedded = EmbeddedBank.load(Path.of(bank));
    } else {
      if (st5 == null) {
        throw new IllegalArgumentException("regressor: the bank " + bank + " is a prompt list; embedding it needs the"
            + " sentence-t5 folder (or give a precomputed .npy/.json embedded bank)");
      }
      embedded = EmbeddedBank.embed(PromptBank.load(bank), sentenceT5, st5);
    }
    return new RegressorRecoverer(f, head, st5, sentenceT5, embedded, settings);
  }

  /**
   * Whether {@code spec} names a precomputed embedded bank: a {@code .npy}, or a {@code .json} array whose first
   * entry is an object with an {@code "embedding"} field.
   */
  public static boolean isEmbeddedBank(String spec) throws IOException {
    String name = spec.toLowerCase(Locale.ROOT);
    if (name.endsWith(".npy")) {
      return true;
    }
    Path p = Path.of(spec);
    if (!name.endsWith(".json") || !Files.isRegularFile(p)) {
      return false;
    }
    try (JsonParser j = new JsonFactory().createParser(p.toFile())) {
      if (j.nextToken() != JsonToken.START_ARRAY || j.nextToken() != JsonToken.START_OBJECT) {
        return false;
      }
      while (j.nextToken() == JsonToken.FIELD_NAME) {
        if (j.currentName().equals("embedding")) {
          return true;
        }
        j.nextToken();
        j.skipChildren();
      }
      return false;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return false; // PromptBank.load says what is wrong with it
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  public Settings settings() {
    return settings;
  }

  public EmbeddingRetrieval retrieval() {
    return retrieval;
  }

  /** The predicted sentence-t5 embedding of each row, in order. */
  public float[][] predictEmbeddings(List<KaggleRow> rows) {
    try {
      float[][] x = new float[rows.size()][];
      int chunk = Math.max(settings.batchSize(), 64);
      try (Progress p = Progress.start("regressor: DeBERTa features", rows.size(), Progress.Unit.ITEMS)) {
        for (int from = 0; from < rows.size(); from += chunk) {
          List<KaggleRow> part = rows.subList(from, Math.min(rows.size(), from + chunk));
          float[][] f = features.texts(part.stream().map(KaggleRow::originalText).toList(),
              part.stream().map(KaggleRow::rewrittenText).toList(), settings.batchSize());
          System.arraycopy(f, 0, x, from, f.length);
          p.advance(f.length);
        }
      }
      float[][] y = HeadTrainer.predict(head, x, "the features of " + rows.size() + " rows");
      if (y.length > 0 && y[0].length != retrieval.bank().dimension()) {
        throw new IllegalArgumentException("the head " + head + " predicts " + y[0].length + " values, the bank "
            + retrieval.bank().source() + " holds " + retrieval.bank().dimension() + "-value embeddings (another"
            + " encoder's?)");
      }
      return y;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private boolean excludeTruePrompts;

  /** In evaluation: a row's true prompt is left out of the bank it is answered from. */
  @Override
  public void excludeTruePrompts(boolean on) {
    this.excludeTruePrompts = on;
  }

  @Override
  public List<String> recoverAll(List<KaggleRow> rows) {
    List<List<String>> excluded = !excludeTruePrompts ? null
        : rows.stream().map(r -> r.rewritePrompt().map(p -> List.of(p.strip())).orElse(List.of())).toList();
    return answers(predictEmbeddings(rows), excluded);
  }

  /**
   * The answers for predicted embeddings: the top k joined, refined by the inversion search when it is on;
   * {@code excluded} (null: none) holds per row the prompts not to answer with (a labelled row's own prompt when
   * validating).
   */
  public List<String> answers(float[][] predicted, List<? extends Collection<String>> excluded) {
    List<List<EmbeddingRetrieval.Hit>> hits = retrieval.nearestAll(predicted, settings.topK(), excluded);
    List<String> out = new ArrayList<>(predicted.length);
    for (List<EmbeddingRetrieval.Hit> h : hits) {
      out.add(EmbeddingRetrieval.join(h, settings.topK(), settings.separator()));
    }
    if (settings.inversion() == null) {
      return out;
    }
    WordEditSearch search = inversionSearch();
    try (Progress p = Progress.start("regressor: inversion", predicted.length, Progress.Unit.ITEMS)) {
      for (int i = 0; i < out.size(); i++) {
        out.set(i, invert(search, out.get(i), predicted[i]).text());
        p.advance(1);
      }
    }
    return out;
  }

  /** The inversion search of one answer towards {@code target} (a start longer than max words is never lengthened). */
  public WordEditSearch.Result invert(String start, float[] target) {
    return invert(inversionSearch(), start, target);
  }

  private static WordEditSearch.Result invert(WordEditSearch search, String start, float[] target) {
    return search.improve(start, WordEditSearch.cosineTo(target), null, "inversion");
  }

  private synchronized WordEditSearch inversionSearch() {
    Inversion inv = settings.inversion();
    if (inv == null) {
      throw new IllegalStateException("regressor: the inversion search is off");
    }
    if (inversionSearch == null) {
      List<String> words = WordVocabulary.mostFrequent(retrieval.bank().prompts(), inv.vocabularySize());
      PromptBank vocabulary = PromptBank.fromLines("the " + words.size() + " most frequent words of "
          + retrieval.bank().source(), words);
      float[][] e;
      try {
        e = EmbeddedBank.embed(vocabulary, sentenceT5Dir, sentenceT5).embeddings();
      } catch (IOException ex) {
        throw new UncheckedIOException(ex);
      }
      inversionSearch = new WordEditSearch(sentenceT5::embed, vocabulary.prompts(), e,
          new WordEditSearch.Settings(inv.maxWords(), inv.shortlist(), inv.maxEvaluations(), null, 1e-6));
    }
    return inversionSearch;
  }

  /**
   * Picks k (1..maxK) on labelled rows ({@link TopKChoice}, each row's own prompt left out of its candidates when
   * {@code excludeTruth}); needs the sentence-t5 encoder.
   */
  public TopKChoice.Result chooseTopK(List<KaggleRow> labelled, int maxK, boolean excludeTruth) {
    if (sentenceT5 == null) {
      throw new IllegalStateException("regressor: choosing k embeds answers with sentence-t5: give its folder");
    }
    List<String> truths = new ArrayList<>();
    for (KaggleRow r : labelled) {
      truths.add(r.rewritePrompt().filter(p -> !p.isBlank()).orElseThrow(() -> new IllegalArgumentException(
          "row " + r.id() + " (line " + r.line() + ") has no rewrite_prompt: choosing k needs labelled rows")));
    }
    return TopKChoice.choose(predictEmbeddings(labelled), truths, retrieval, sentenceT5::embed, maxK,
        settings.separator(), excludeTruth);
  }

  @Override
  public String toString() {
    return NAME + " (features " + features.dir() + ", head " + head + ", bank " + retrieval.bank() + ", " + settings + ")";
  }
}
