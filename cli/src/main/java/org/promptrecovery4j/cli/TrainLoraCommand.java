package org.promptrecovery4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.promptrecovery4j.models.generation.PromptCodec;
import org.promptrecovery4j.training.lora.LoraExamples;
import org.promptrecovery4j.training.lora.LoraTrainer;
import org.promptrecovery4j.training.optim.AdamW;
import org.promptrecovery4j.weights.ModelFolder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code train-lora}: a LoRA adapter for a causal LM, saved in PEFT's format; resumable. */
@Command(
    name = "train-lora",
    mixinStandardHelpOptions = true,
    description = {
      "Train a LoRA adapter (PEFT's init and format) on a causal LM; the base weights stay frozen.",
      "Data: .csv with original_text, rewritten_text, rewrite_prompt (rendered as the prompt-recovery instruction,",
      "through the model's chat template if it has one; loss on the answer only), or pre-tokenized .jsonl",
      "{\"input_ids\": [...], \"labels\": [...]} (-100 = no loss). After each epoch ADAPTER_DIR holds the adapter and",
      "train_state.safetensors; the same command again resumes a killed run."
    })
public final class TrainLoraCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "the base HF folder (phi, mistral/llama, gemma) or llama2.c file")
  Path model;

  @Option(names = "--data", required = true, description = "training data: .csv or pre-tokenized .jsonl")
  Path data;

  @Option(names = "--output", required = true, description = "the adapter folder")
  Path output;

  @Option(names = "--target-modules", split = ",", description = "linear layers to adapt (default: phi q_proj,k_proj,"
      + "v_proj,dense; others q_proj,k_proj,v_proj,o_proj)")
  List<String> targetModules;

  @Option(names = "--r", defaultValue = "8", description = "LoRA rank (default ${DEFAULT-VALUE})")
  int r;

  @Option(names = "--alpha", defaultValue = "16", description = "LoRA alpha; scaling alpha / r (default ${DEFAULT-VALUE})")
  double alpha;

  @Option(names = "--lora-dropout", defaultValue = "0.05", description = "dropout on each adapted layer's input in"
      + " training, PEFT's lora_dropout (default ${DEFAULT-VALUE}; 0 = off)")
  double loraDropout;

  @Option(names = "--lr", defaultValue = "2e-4", description = "AdamW learning rate (default ${DEFAULT-VALUE})")
  double lr;

  @Option(names = "--weight-decay", defaultValue = "0.0", description = "AdamW weight decay (default ${DEFAULT-VALUE})")
  double weightDecay;

  @Option(names = "--max-grad-norm", defaultValue = "1.0", description = "gradient-norm clipping, 0 = off (default ${DEFAULT-VALUE})")
  double maxGradNorm;

  @Option(names = "--epochs", defaultValue = "1", description = "epochs (default ${DEFAULT-VALUE})")
  int epochs;

  @Option(names = "--batch-size", defaultValue = "4", description = "examples per batch (default ${DEFAULT-VALUE})")
  int batchSize;

  @Option(names = "--grad-accum", defaultValue = "1", description = "batches per optimiser step (default ${DEFAULT-VALUE})")
  int gradAccum;

  @Option(names = "--max-length", defaultValue = "512", description = "tokens per example; the texts are cut, never the"
      + " answer (default ${DEFAULT-VALUE})")
  int maxLength;

  @Option(names = "--val-fraction", defaultValue = "0.1", description = "held-out share scored each epoch (default ${DEFAULT-VALUE})")
  double valFraction;

  @Option(names = "--seed", defaultValue = "0", description = "seed of the init and the shuffling (default ${DEFAULT-VALUE})")
  long seed;

  @Override
  public Integer call() throws Exception {
    String name = data.getFileName().toString().toLowerCase(Locale.ROOT);
    PromptCodec codec = name.endsWith(".csv") ? PromptCodecs.required(model) : null;
    int eos = name.endsWith(".csv") ? eosId(model) : -1;
    List<LoraExamples.Example> examples = LoraExamples.read(data, codec, eos, maxLength);
    List<String> targets = targetModules != null ? targetModules : defaultTargets(model);
    LoraTrainer.Result res = LoraTrainer.train(model, examples, output, new LoraTrainer.Options(targets, r, alpha,
        new AdamW.Settings(lr, 0.9, 0.999, 1e-8, weightDecay), maxGradNorm, epochs, batchSize, gradAccum, seed, valFraction,
        loraDropout));
    LoraTrainer.Epoch last = res.epochs().get(res.epochs().size() - 1);
    System.err.printf(Locale.ROOT, "wrote %s (epoch %d: train loss %.4f%s)%n", output, last.epoch(), last.trainLoss(),
        Double.isNaN(last.valLoss()) ? "" : String.format(Locale.ROOT, ", held-out loss %.4f", last.valLoss()));
    return 0;
  }

  private static List<String> defaultTargets(Path model) throws java.io.IOException {
    if (!Files.isDirectory(model)) {
      return List.of("q_proj", "k_proj", "v_proj", "o_proj"); // llama2.c: Llama names
    }
    try (ModelFolder f = ModelFolder.open(model)) {
      return f.config().modelType().equals("phi") ? List.of("q_proj", "k_proj", "v_proj", "dense")
          : List.of("q_proj", "k_proj", "v_proj", "o_proj");
    }
  }

  private static int eosId(Path model) throws java.io.IOException {
    org.promptrecovery4j.tokenizer.Tokenizer tok = org.promptrecovery4j.tokenizer.Tokenizers.load(model);
    if (tok.eosId() < 0) {
      throw new IllegalArgumentException(model + ": the tokenizer has no EOS token to end the answers with");
    }
    return tok.eosId();
  }
}
