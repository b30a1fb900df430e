package org.promptrecovery4j.recovery;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.promptrecovery4j.models.builtin.BuiltinModels;
import org.promptrecovery4j.models.generation.ChatTemplate;
import org.promptrecovery4j.models.generation.ChatTemplate.Message;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;
import org.promptrecovery4j.models.generation.GenerationConfig;
import org.promptrecovery4j.models.generation.Generator;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;
import org.promptrecovery4j.training.lora.LoraExamples;

/**
 * Few-shot prompting of an instruct model (Mistral-7B-Instruct in the seed): for each row, its {@link Settings#k}
 * nearest labelled rows of an {@link ExampleBank} (by the similarity of the rewritten texts) become a conversation in
 * the model's chat template — per example a user turn ({@link #question}) and an assistant turn (the example's
 * {@code rewrite_prompt}), the least similar example first so that the nearest stands right before the row's own
 * question — and the model answers the row's question. An optional {@link Settings#responsePrefix} (e.g.
 * {@code "Rewrite"}) is appended after the template's opening of the answer, so the answer is forced to start with it,
 * and it is kept as the start of the answer.
 *
 * <p>The whole prompt fits {@link Settings#maxPromptTokens}: when it is longer, the examples' texts are cut at the
 * end to one common length, the longest that fits (their prompts are never cut); if the row's own question does not
 * fit even with the examples' texts emptied, its two texts are cut too, as LoRA training cuts them
 * ({@link LoraExamples#fitTexts}). Greedy decoding, up to {@link Settings#maxNewTokens}, stopping at the end of the
 * model's turn; cleaned by {@link GeneratedPromptCleaner#cleanOrEmpty} (the empty string where nothing usable is
 * left, for an ensemble to skip).
 */
public final class FewShotRecoverer implements PromptRecoverer {

  public static final String NAME = "few-shot";

  /**
   * How prompts are generated.
   *
   * @param k examples per row (default {@value #DEFAULT_K}; 0 asks the question alone)
   * @param maxPromptTokens the whole rendered prompt's budget in tokens (default {@value #DEFAULT_MAX_PROMPT_TOKENS})
   * @param maxNewTokens tokens generated at most per answer (default {@value #DEFAULT_MAX_NEW_TOKENS})
   * @param batchSize rows generated together (default {@value #DEFAULT_BATCH_SIZE})
   * @param responsePrefix text the answer is forced to start with, appended verbatim after the template (for
   *     Mistral's {@code [/INST]} mind the space: {@code " Rewrite"} reads as the model would write it), or null
   */
  public record Settings(int k, int maxPromptTokens, int maxNewTokens, int batchSize, String responsePrefix) {

    public static final int DEFAULT_K = 3;
    public static final int DEFAULT_MAX_PROMPT_TOKENS = 2048;
    public static final int DEFAULT_MAX_NEW_TOKENS = 64;
    public static final int DEFAULT_BATCH_SIZE = 4;

    public Settings {
      if (k < 0 || k > 64 || maxNewTokens < 1 || batchSize < 1 || maxPromptTokens < 1) {
        throw new IllegalArgumentException("few-shot: k must be in [0, 64], max new tokens, batch size and max prompt"
            + " tokens at least 1; are " + k + ", " + maxNewTokens + ", " + batchSize + " and " + maxPromptTokens);
      }
      if (responsePrefix != null && responsePrefix.isEmpty()) {
        responsePrefix = null;
      }
    }

    public static Settings defaults() {
      return new Settings(DEFAULT_K, DEFAULT_MAX_PROMPT_TOKENS, DEFAULT_MAX_NEW_TOKENS, DEFAULT_BATCH_SIZE, null);
    }

    public Settings withResponsePrefix(String prefix) {
      return new Settings(k, maxPromptTokens, maxNewTokens, batchSize, prefix);
    }

    public Settings withK(int n) {
      return new Settings(n, maxPromptTokens, maxNewTokens, batchSize, responsePrefix);
    }

    public Settings withMaxPromptTokens(int n) {
      return new Settings(k, n, maxNewTokens, batchSize, responsePrefix);
    }
  }

  private final TextGenerator generator;
  private final ExampleBank bank;
  private final Settings settings;
  private final ChatTemplate template;

  /**
   * A recoverer over a loaded instruct model and an example bank; takes ownership of {@code generator}. An error
   * when the model has no chat template, or the prompt budget and the answer exceed its context.
   */
  public FewShotRecoverer(TextGenerator generator, ExampleBank bank, Settings settings) {
    if (generator.chatTemplate() == null) {
      throw new IllegalArgumentException("few-shot: the model's tokenizer has no chat_template (tokenizer_config.json):"
          + " few-shot prompting needs an instruct model");
    }
    if (settings.maxPromptTokens() + settings.maxNewTokens() > generator.context()) {
      throw new IllegalArgumentException("few-shot: max prompt tokens " + settings.maxPromptTokens() + " + max new tokens "
          + settings.maxNewTokens() + " is more than the model's context of " + generator.context() + " tokens");
    }
    this.generator = generator;
    this.bank = bank;
    this.settings = settings;
    this.template = generator.chatTemplate();
  }

  /**
   * Loads the instruct model folder {@code model} (with its tokenizer and chat template) and the example bank
   * {@code examples} (a CSV {@code id,original_text,rewritten_text,rewrite_prompt}), its rewritten texts embedded with
   * the sentence-transformers folder {@code encoder}, or the built-in all-MiniLM-L6-v2 when {@code encoder} is null.
   * The model's weights are held and multiplied as {@code storage} says ({@link TextGenerator#load(Path, Path,
   * WeightStorage)}).
   */
  public static FewShotRecoverer load(Path model, Path examples, Path encoder, Settings settings,
      WeightStorage storage) throws IOException {
    SentenceEmbedder e = encoder == null ? BuiltinModels.allMiniLmL6V2() : SentenceEmbedder.load(encoder, 32);
    ExampleBank bank = ExampleBank.load(examples, e::embed);
    TextGenerator g = TextGenerator.load(model, null, storage);
    try {
      return new FewShotRecoverer(g, bank, settings);
    } catch (RuntimeException ex) {
      g.close();
      throw ex;
    }
  }

  /** {@link #load(Path, Path, Path, Settings, WeightStorage)} with the built-in encoder, default settings, float32. */
  public static FewShotRecoverer load(Path model, Path examples) throws IOException {
    return load(model, examples, null, Settings.defaults(), WeightStorage.FLOAT32);
  }

  @Override
  public String name() {
    return NAME;
  }

  private boolean excludeTruePrompts;

  /** In evaluation: no example carrying the row's true prompt is shown to the model. */
  @Override
  public void excludeTruePrompts(boolean on) {
    this.excludeTruePrompts = on;
  }

  public ExampleBank bank() {
    return bank;
  }

  public Settings settings() {
    return settings;
  }

  /** A user turn: the two texts and the question. */
  public static String question(String original, String rewritten) {
    return "Original text:\n" + original + "\n\nRewritten text:\n" + rewritten
        + "\n\nWhat prompt was the original text rewritten with? Answer with the prompt only.";
  }

  /** The examples of each row: bank indices, the nearest first. */
  public List<int[]> examples(List<KaggleRow> rows) {
    return bank.neighbours(rows, settings.k(), excludeTruePrompts).stream().map(ExampleBank.Neighbours::rows).toList();
  }

  /**
   * The rendered prompt text of a row with these examples (bank indices, nearest first), fitted to the budget: the
   * conversation through the chat template, the model's turn opened, then the response prefix.
   */
  public String prompt(KaggleRow row, int[] examples) {
    int longest = 0;
    for (int i : examples) {
      longest = Math.max(longest, Math.max(bank.get(i).originalText().length(), bank.get(i).rewrittenText().length()));
    }
    String o = row.originalText();
    String r = row.rewrittenText();
    if (tokens(render(examples, Integer.MAX_VALUE, o, r)) <= settings.maxPromptTokens()) {
      return render(examples, Integer.MAX_VALUE, o, r);
    }
    if (tokens(render(examples, 0, o, r)) <= settings.maxPromptTokens()) {
      // the longest common length of the examples' texts that fits
      int lo = 0;
      int hi = longest;
      while (lo < hi) {
        int mid = (lo + hi + 1) >>> 1;
        if (tokens(render(examples, mid, o, r)) <= settings.maxPromptTokens()) {
          lo = mid;
        } else {
          hi = mid - 1;
        }
      }
      return render(examples, lo, o, r);
    }
    String[] cut = LoraExamples.fitTexts(o, r, c -> tokens(render(examples, 0, c[0], c[1])), settings.maxPromptTokens(),
        () -> "few-shot: row " + row.id() + ": the prompt does not fit in " + settings.maxPromptTokens()
            + " tokens even with every text cut away");
    return render(examples, 0, cut[0], cut[1]);
  }

  /** The prompt ids of a row with these examples (see {@link #prompt}). */
  public int[] promptIds(KaggleRow row, int[] examples) {
    return encode(prompt(row, examples));
  }

  private String render(int[] examples, int exampleChars, String original, String rewritten) {
    List<Message> messages = new ArrayList<>(2 * examples.length + 1);
    for (int j = examples.length - 1; j >= 0; j--) { // the nearest last, right before the row's question
      KaggleRow e = bank.get(examples[j]);
      messages.add(Message.user(question(head(e.originalText(), exampleChars), head(e.rewrittenText(), exampleChars))));
      messages.add(Message.assistant(e.rewritePrompt().orElseThrow().strip()));
    }
    messages.add(Message.user(question(original, rewritten)));
    String s = template.render(messages, true);
    return settings.responsePrefix() == null ? s : s + settings.responsePrefix();
  }

  private static String head(String s, int chars) {
    return s.length() <= chars ? s : s.substring(0, chars);
  }

  private int[] encode(String prompt) {
    return generator.codec().encode(prompt, false); // special tokens come from the template, as apply_chat_template
  }

  private int tokens(String prompt) {
    return encode(prompt).length;
  }

  /** The generation settings: greedy, stopping at the end of the model's turn, the batch size. */
  public GenerationConfig generationConfig() {
    return generator.greedy(settings.maxNewTokens(), settings.batchSize());
  }

  @Override
  public List<String> recoverAll(List<KaggleRow> rows) {
    List<int[]> examples = examples(rows);
    List<int[]> prompts = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      prompts.add(promptIds(rows.get(i), examples.get(i)));
    }
    List<Generator.Result> results = generator.generate(prompts, generationConfig(), NAME);
    List<String> out = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      out.add(GeneratedPromptCleaner.cleanOrEmpty(answer(prompts.get(i), results.get(i))));
    }
    return out;
  }

  /** The answer as generated, the response prefix in front. */
  String answer(int[] prompt, Generator.Result r) {
    return settings.responsePrefix() == null ? r.text()
        : settings.responsePrefix() + generator.continuation(prompt, r);
  }

  /** The model this recoverer generates with. */
  TextGenerator generator() {
    return generator;
  }

  @Override
  public void close() {
    generator.close();
  }

  @Override
  public String toString() {
    return NAME + " (" + generator.model().displayName() + ", bank " + bank + ", " + settings + ")";
  }
}
