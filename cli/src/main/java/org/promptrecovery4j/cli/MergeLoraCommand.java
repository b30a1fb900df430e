package org.promptrecovery4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.promptrecovery4j.models.lora.LoraMerge;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code merge-lora}: a HF folder whose weights are base + LoRA update (PEFT's merge_and_unload). */
@Command(
    name = "merge-lora",
    mixinStandardHelpOptions = true,
    description = {
      "Merge a PEFT LoRA adapter into its base model and write a new HF folder: each adapted weight becomes",
      "W + scaling * B A in its stored dtype, other tensors and the config/tokenizer files are copied.",
      "The output folder must not exist; it appears complete or not at all."
    })
public final class MergeLoraCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "the base HF model folder")
  Path model;

  @Option(names = "--adapter", required = true, description = "PEFT adapter folder (adapter_config.json + adapter_model.safetensors)")
  Path adapter;

  @Option(names = "--output", required = true, description = "the merged HF folder to write")
  Path output;

  @Override
  public Integer call() throws Exception {
    LoraMerge.merge(model, adapter, output);
    System.err.println("wrote " + output);
    return 0;
  }
}
