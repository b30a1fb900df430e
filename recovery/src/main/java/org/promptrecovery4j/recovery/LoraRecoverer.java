package org.promptrecovery4j.recovery;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;
import org.promptrecovery4j.models.generation.GenerationConfig;
import org.promptrecovery4j.models.generation.Generator;
import org.promptrecovery4j.training.lora.LoraExamples;

/**
 * The seed's fine-tuned recoverer: a causal LM with a PEFT LoRA adapter trained by {@code train-lora} (phi-2 + LoRA
 * in the seed) writes the prompt of each row. The prompt is rendered exactly as training rendered it
 * ({@link LoraExamples#generationPrompt}: the prompt-recovery {@link LoraExamples#instruction} through the model's
 * chat template when its tokenizer has one, else phi-2's {@code "Instruct: …\nOutput:"}), the two texts cut as
 * training cuts them (the longer first, at the end) so that the prompt leaves room for the answer within
 * {@link Settings#maxLength} tokens (train-lora's {@code --max-length}): never an unbounded prompt.
 *
 * <p>Greedy decoding of up to {@link Settings#maxNewTokens} tokens, stopping at EOS (training ended every answer with
 * it), {@link Settings#batchSize} rows at a time (rows sorted by prompt length, so a batch pads little). The text is
 * cleaned by {@link GeneratedPromptCleaner}; where cleaning finds nothing usable (too short, too long, a refusal) the
 * answer is the empty string ({@link GeneratedPromptCleaner#cleanOrEmpty}), so that an ensemble can tell "no answer"
 * and skip it (this recoverer never substitutes a fallback prompt itself).
 */
public final class LoraRecoverer implements PromptRecoverer {

  public static final String NAME = "lora";

  /**
   * How prompts are generated.
   *
   * @param maxNewTokens tokens generated at most per answer (default {@value #DEFAULT_MAX_NEW_TOKENS})
   * @param maxLength prompt plus answer, in tokens: the prompt is cut to {@code maxLength - maxNewTokens}; use
   *     train-lora's {@code --max-length} (default {@value #DEFAULT_MAX_LENGTH}, train-lora's default)
   * @param batchSize rows generated together (default {@value #DEFAULT_BATCH_SIZE})
   */
  public record Settings(int maxNewTokens, int maxLength, int batchSize) {

    public static final int DEFAULT_MAX_NEW_TOKENS = 64;
    public static final int DEFAULT_MAX_LENGTH = 512;
    public static final int DEFAULT_BATCH_SIZE = 8;

    public Settings {
      if (maxNewTokens < 1 || batchSize < 1 || maxLength <= maxNewTokens) {
        throw new IllegalArgumentException("lora: max new tokens and batch size must be at least 1 and max length more"
            + " than max new tokens; are " + maxNewTokens + ", " + batchSize + " and " + maxLength);
      }
    }

    public static Settings defaults() {
      return new Settings(DEFAULT_MAX_NEW_TOKENS, DEFAULT_MAX_LENGTH, DEFAULT_BATCH_SIZE);
    }

    /** The prompt's budget in tokens. */
    public int maxPromptTokens() {
      return maxLength - maxNewTokens;
    }
  }

  private final TextGenerator generator;
  private final Settings settings;

  /**
   * A recoverer over a loaded model (base + adapter); takes ownership of {@code generator}. An error when
   * {@code maxLength} exceeds the model's context.
   */
  public LoraRecoverer(TextGenerator generator, Settings settings) {
    if (settings.maxLength() > generator.context()) {
      throw new IllegalArgumentException("lora: max length " + settings.maxLength() + " is more than the model's context"
          + " of " + generator.context() + " tokens (max_position_embeddings)");
    }
    this.generator = generator;
    this.settings = settings;
  }

  /**
   * Loads the base model folder {@code model} (with its tokenizer) and the PEFT adapter folder {@code adapter}
   * ({@code adapter_config.json} + {@code adapter_model.safetensors}, as train-lora writes it), the weights held and
   * multiplied as {@code storage} says ({@link TextGenerator#load(Path, Path, WeightStorage)}).
   */
  public static LoraRecoverer load(Path model, Path adapter, Settings settings, WeightStorage storage)
      throws IOException {
    if (adapter == null) {
      throw new IllegalArgumentException("lora: no adapter folder given");
    }
    TextGenerator g = TextGenerator.load(model, adapter, storage);
    try {
      return new LoraRecoverer(g, settings);
    } catch (RuntimeException e) {
      g.close();
      throw e;
    }
  }

  /** {@link #load(Path, Path, Settings, WeightStorage)} with default settings, weights upcast to float32. */
  public static LoraRecoverer load(Path model, Path adapter) throws IOException {
    return load(model, adapter, Settings.defaults(), WeightStorage.FLOAT32);
  }

  @Override
  public String name() {
    return NAME;
  }

  public Settings settings() {
    return settings;
  }

  /** The prompt ids of one row: what training put before the answer, the texts cut to the budget. */
  public int[] promptIds(KaggleRow row) {
    return LoraExamples.generationPrompt(row.originalText(), row.rewrittenText(), generator.codec(),
        generator.chatTemplate(), settings.maxPromptTokens(), "row " + row.id());
  }

  /** The generation settings: greedy, the stop ids, the batch size. */
  public GenerationConfig generationConfig() {
    return generator.greedy(settings.maxNewTokens(), settings.batchSize());
  }

  @Override
  public List<String> recoverAll(List<KaggleRow> rows) {
    List<int[]> prompts = new ArrayList<>(rows.size());
    for (KaggleRow r : rows) {
      prompts.add(promptIds(r));
    }
    List<Generator.Result> results = generator.generate(prompts, generationConfig(), NAME);
    List<String> out = new ArrayList<>(rows.size());
    for (Generator.Result r : results) {
      out.add(GeneratedPromptCleaner.cleanOrEmpty(r.text()));
    }
    return out;
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
    return NAME + " (" + generator.model().displayName() + ", " + settings + ")";
  }
}
