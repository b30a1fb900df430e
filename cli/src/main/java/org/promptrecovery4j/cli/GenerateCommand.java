package org.promptrecovery4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.promptrecovery4j.core.AtomicFiles;
import org.promptrecovery4j.models.DecoderCompute;
import org.promptrecovery4j.models.Models;
import org.promptrecovery4j.models.generation.CausalLM;
import org.promptrecovery4j.models.generation.DecoderOptions;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;
import org.promptrecovery4j.models.generation.GenerationConfig;
import org.promptrecovery4j.models.generation.Generator;
import org.promptrecovery4j.models.generation.PromptCodec;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code generate}: continue a prompt with a causal LM (phi, Mistral/Llama, Gemma, llama2.c file). */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = {
      "Generate text with a causal LM from a HF folder (phi, mistral, llama, gemma) or a llama2.c .bin file.",
      "Writes {\"generated_ids\": [...], \"text\": \"...\"} to --output, or prints the text (the ids without a tokenizer)."
    })
public final class GenerateCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "HF model folder or llama2.c checkpoint file")
  Path model;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Input input;

  static final class Input {
    @Option(names = "--input-ids", split = ",", description = "prompt token ids, e.g. 1,2,3")
    List<String> ids;

    @Option(names = "--prompt", description = "prompt text (needs the model's tokenizer)")
    String text;
  }

  @Option(names = "--chat", description = "wrap --prompt in the model's chat template as one user turn")
  boolean chat;

  @Option(names = "--response-prefix", description = "text that starts the answer (after the chat template)")
  String responsePrefix;

  @Option(names = "--max-new-tokens", required = true, description = "tokens to generate at most")
  int maxNewTokens;

  @Option(names = "--greedy", description = "greedy decoding (the default)")
  boolean greedy;

  @Option(names = "--temperature", description = "sample with this temperature")
  Double temperature;

  @Option(names = "--top-p", defaultValue = "1.0", description = "nucleus sampling mass (default ${DEFAULT-VALUE})")
  double topP;

  @Option(names = "--top-k", defaultValue = "0", description = "sample among the k most likely (0 = all)")
  int topK;

  @Option(names = "--seed", defaultValue = "0", description = "sampling seed (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--repetition-penalty", defaultValue = "1.0", description = "HF repetition penalty (1 = off)")
  double repetitionPenalty;

  @Option(names = "--eos-ids", split = ",", description = "stop ids (default: the config's eos_token_id)")
  List<Integer> eosIds;

  @Option(names = "--no-eos", description = "do not stop on EOS ids")
  boolean noEos;

  @Option(names = "--stop", description = "stop when the text contains this string (repeatable)")
  List<String> stops = new ArrayList<>();

  @Option(names = "--truncate-left", description = "keep the last tokens of a prompt longer than the context")
  boolean truncateLeft;

  @Option(names = "--adapter", description = "a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors)")
  Path adapter;

  @Mixin
  DecoderComputeOption compute = new DecoderComputeOption();

  @Option(names = "--output", description = "write the result as JSON here")
  Path output;

  @Override
  public Integer call() throws Exception {
    if (greedy && temperature != null) {
      throw new IllegalArgumentException("--greedy and --temperature exclude each other");
    }
    if (chat && input.text == null) {
      throw new IllegalArgumentException("--chat needs --prompt");
    }
    WeightStorage storage = compute.storage();
    PromptCodec codec = input.text != null ? PromptCodecs.required(model) : PromptCodecs.forModel(model);
    long[] given = input.text != null ? null : parseIds(input.ids);
    DecoderOptions options = DecoderOptions.defaults().withStorage(storage);
    long t0 = System.nanoTime();
    try (CausalLM lm = adapter != null ? org.promptrecovery4j.models.lora.LoraAdapter.load(adapter).loadOnto(model, options)
        : Models.loadCausalLM(model, options)) {
      long t1 = System.nanoTime();
      if (codec != null) {
        lm.vocabulary().warnIfTokenizerExceeds("the tokenizer of " + model, codec.idLimit());
      }
      int[] prompt;
      if (given != null) {
        lm.vocabulary().check(given, given.length); // before the ids become ints: 4294967297 stays as written
        prompt = java.util.Arrays.stream(given).mapToInt(id -> (int) id).toArray();
      } else {
        prompt = codec.promptIds(input.text, chat, responsePrefix);
      }
      // a chat answer also ends at the template's end of turn (Gemma's <end_of_turn>, which its config does not list)
      Set<Integer> eos = noEos ? Set.of() : eosIds != null ? new HashSet<>(eosIds)
          : chat ? org.promptrecovery4j.models.TokenizerCodecs.stopIds(lm, codec, codec.chatTemplate())
          : new HashSet<>(lm.dims().eosTokenIds());
      GenerationConfig config = GenerationConfig.greedy(maxNewTokens).withEos(eos).withStopStrings(stops)
          .withTruncateLeft(truncateLeft).withRepetitionPenalty(repetitionPenalty);
      if (temperature != null) {
        config = config.sampling(temperature, topK, topP, seed);
      }
      Generator.Result r = new Generator(lm).generate(prompt, config, codec);
      long t2 = System.nanoTime();
      System.err.printf("loaded (%s) in %.1f s; %d tokens in %.2f s (%.1f tokens/s); stopped: %s%n",
          DecoderCompute.name(storage), (t1 - t0) / 1e9,
          r.generatedIds().length, (t2 - t1) / 1e9, r.generatedIds().length / ((t2 - t1) / 1e9),
          r.finishReason().name().toLowerCase(java.util.Locale.ROOT));
      ObjectMapper json = new ObjectMapper();
      ObjectNode out = json.createObjectNode();
      out.putPOJO("generated_ids", r.generatedIds());
      out.put("text", r.text());
      out.put("finish_reason", r.finishReason().name().toLowerCase(java.util.Locale.ROOT));
      out.putPOJO("prompt_ids", prompt);
      if (output != null) {
        byte[] bytes = json.writerWithDefaultPrettyPrinter().writeValueAsString(out).getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(output, stream -> stream.write(bytes));
        System.err.println("wrote " + output);
      } else {
        System.out.println(r.text() != null ? r.text() : json.writeValueAsString(out.get("generated_ids")));
      }
    }
    return 0;
  }

  /** {@code --input-ids} as written: integers, or an error naming the value and its position. */
  static long[] parseIds(List<String> ids) {
    long[] out = new long[ids.size()];
    for (int i = 0; i < out.length; i++) {
      String s = ids.get(i).trim();
      try {
        out[i] = Long.parseLong(s);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--input-ids: token id " + s + " at position " + i
            + " is not an integer token id");
      }
    }
    if (out.length == 0) {
      throw new IllegalArgumentException("--input-ids: no token ids");
    }
    return out;
  }
}
