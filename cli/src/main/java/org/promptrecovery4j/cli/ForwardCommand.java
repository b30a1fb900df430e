package org.promptrecovery4j.cli;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.TensorJson;
import org.promptrecovery4j.models.ForwardModel;
import org.promptrecovery4j.models.Models;
import org.promptrecovery4j.models.builtin.BuiltinModels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code forward}: one forward pass of a HF model folder on token ids, outputs as tensor JSON. */
@Command(
    name = "forward",
    mixinStandardHelpOptions = true,
    description = {
      "Run a model's forward pass on token ids and write its outputs in the tensor JSON format.",
      "Input: {\"input_ids\": [[...]], \"attention_mask\": [[...]]} (no mask = all ones); BERT also takes"
          + " \"token_type_ids\" (no key = all zeros); other keys ignored.",
      "Output: DeBERTa last_hidden_state + hidden_states; a sentence-transformers folder token_embeddings +"
          + " sentence_embedding; T5 last_hidden_state + hidden_states; causal LMs logits."
    })
public final class ForwardCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "HuggingFace model folder, or the built-in all-MiniLM-L6-v2")
  String model;

  @Option(names = "--input", required = true, description = "inputs.json (tensor JSON or plain nested lists)")
  Path input;

  @Option(names = "--adapter", description = "a PEFT LoRA adapter folder, applied to a causal LM")
  Path adapter;

  @Option(names = "--output", required = true, description = "where to write the outputs (tensor JSON)")
  Path output;

  @Override
  public Integer call() throws Exception {
    IdsJson in = IdsJson.read(input);
    INDArray ids = in.get("input_ids", true);
    INDArray mask = in.get("attention_mask", false);
    INDArray types = in.get("token_type_ids", false);
    try (ForwardModel m = adapter == null ? Models.load(BuiltinModels.resolve(model))
        : org.promptrecovery4j.models.lora.LoraAdapter.load(adapter).loadOnto(BuiltinModels.resolve(model),
            org.promptrecovery4j.models.generation.DecoderOptions.defaults())) {
      Map<String, Object> out = m.forward(ids, mask, types);
      TensorJson.write(output, out);
    }
    System.err.println("wrote " + output);
    return 0;
  }
}
