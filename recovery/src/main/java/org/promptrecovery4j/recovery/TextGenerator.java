package org.promptrecovery4j.recovery;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import org.promptrecovery4j.core.Progress;
import org.promptrecovery4j.models.DecoderCompute;
import org.promptrecovery4j.models.Models;
import org.promptrecovery4j.models.TokenizerCodecs;
import org.promptrecovery4j.models.generation.CausalLM;
import org.promptrecovery4j.models.generation.ChatTemplate;
import org.promptrecovery4j.models.generation.DecoderOptions;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;
import org.promptrecovery4j.models.generation.GenerationConfig;
import org.promptrecovery4j.models.generation.Generator;
import org.promptrecovery4j.models.generation.PromptCodec;
import org.promptrecovery4j.models.lora.LoraAdapter;

/**
 * A causal LM loaded for generation from text, what the LLM recoverers and the {@code rewrite} job share: the model
 * (with a PEFT LoRA adapter, optionally), its folder's tokenizer and chat template ({@link TokenizerCodecs}), and the
 * ids an answer ends with ({@link TokenizerCodecs#stopIds}: the config's EOS ids, the tokenizer's EOS, the template's
 * end of turn). Generation is {@link Generator}'s batched KV-cache path. Closing it frees the model.
 */
public final class TextGenerator implements AutoCloseable {

  private final CausalLM lm;
  private final PromptCodec codec;
  private final ChatTemplate template;
  private final Set<Integer> stopIds;
  private final Generator generator;

  /**
   * A generator over a loaded model and its codec; takes ownership of {@code lm}. The chat template is read once
   * here: an unsupported one is an error now, not at the first row.
   */
  public TextGenerator(CausalLM lm, PromptCodec codec) {
    this.lm = lm;
    this.codec = codec;
    this.template = codec.chatTemplate();
    this.stopIds = TokenizerCodecs.stopIds(lm, codec, template);
    this.generator = new Generator(lm);
  }

  /**
   * Loads {@code model} (a HF folder: phi, mistral/llama, gemma) with its tokenizer, and {@code adapter} (a PEFT LoRA
   * folder) on it when not null, its weights held and multiplied as {@code storage} says ({@link DecoderCompute}:
   * float32, the default; bf16, bf16 GEMMs, the fast way to run a 7B model in 24 GiB; as-stored, bf16 kept 2 bytes a
   * value and upcast per use, slow).
   */
  public static TextGenerator load(Path model, Path adapter, WeightStorage storage) throws IOException {
    PromptCodec codec;
    try {
      codec = TokenizerCodecs.load(model);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(model + ": generation from text needs the model's tokenizer: " + e.getMessage(), e);
    }
    return load(model, codec, adapter, storage);
  }

  /** {@link #load(Path, Path, WeightStorage)} with the model's codec already loaded. */
  public static TextGenerator load(Path model, PromptCodec codec, Path adapter, WeightStorage storage)
      throws IOException {
    DecoderOptions options = DecoderOptions.defaults().withStorage(storage);
    CausalLM lm = adapter != null ? LoraAdapter.load(adapter).loadOnto(model, options) : Models.loadCausalLM(model, options);
    try {
      lm.vocabulary().warnIfTokenizerExceeds("the tokenizer of " + model, codec.idLimit());
      return new TextGenerator(lm, codec);
    } catch (RuntimeException e) {
      lm.close();
      throw e;
    }
  }

  public CausalLM model() {
    return lm;
  }

  public PromptCodec codec() {
    return codec;
  }

  /** The model's chat template, or null when its tokenizer has none. */
  public ChatTemplate chatTemplate() {
    return template;
  }

  /** The ids that end an answer. */
  public Set<Integer> stopIds() {
    return stopIds;
  }

  /** The model's context in tokens ({@code max_position_embeddings}). */
  public int context() {
    return lm.dims().maxPositions();
  }

  /** Greedy decoding of up to {@code maxNewTokens}, stopping at {@link #stopIds}, {@code batchSize} rows at a time. */
  public GenerationConfig greedy(int maxNewTokens, int batchSize) {
    return GenerationConfig.greedy(maxNewTokens).withEos(stopIds).withMaxBatchSize(batchSize);
  }

  /** Generates for every prompt (results in order, their text decoded without special tokens). */
  public List<Generator.Result> generate(List<int[]> prompts, GenerationConfig config) {
    return generator.generate(prompts, config, codec);
  }

  /**
   * {@link #generate(List, GenerationConfig)} batch by batch ({@code config}'s batch size, longest prompts first, as
   * the Generator batches them) with a progress line labelled {@code label}; results in the prompts' order.
   */
  public List<Generator.Result> generate(List<int[]> prompts, GenerationConfig config, String label) {
    Integer[] order = new Integer[prompts.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingInt((Integer i) -> -prompts.get(i).length).thenComparingInt(i -> i));
    Generator.Result[] results = new Generator.Result[prompts.size()];
    try (Progress progress = Progress.start(label + " (rows)", prompts.size(), Progress.Unit.ITEMS)) {
      for (int start = 0; start < order.length; start += config.maxBatchSize()) {
        int end = Math.min(order.length, start + config.maxBatchSize());
        List<int[]> batch = new ArrayList<>(end - start);
        for (int k = start; k < end; k++) {
          batch.add(prompts.get(order[k]));
        }
        List<Generator.Result> r = generate(batch, config);
        for (int k = start; k < end; k++) {
          results[order[k]] = r.get(k - start);
        }
        progress.advance(end - start);
      }
    }
    return List.of(results);
  }

  /**
   * What the model wrote after {@code prompt} as text: the decoded prompt-and-answer less the decoded prompt (so the
   * first token's leading space survives, which decoding the answer alone can drop), or the answer decoded alone when
   * the two decodings do not line up.
   */
  public String continuation(int[] prompt, Generator.Result r) {
    int[] answer = r.generatedIds();
    if (r.finishReason() == Generator.FinishReason.EOS && answer.length > 0) {
      answer = Arrays.copyOf(answer, answer.length - 1);
    }
    int[] all = Arrays.copyOf(prompt, prompt.length + answer.length);
    System.arraycopy(answer, 0, all, prompt.length, answer.length);
    String head = codec.decode(prompt);
    String full = codec.decode(all);
    return full.startsWith(head) ? full.substring(head.length()) : codec.decode(answer);
  }

  @Override
  public void close() {
    lm.close();
  }
}
