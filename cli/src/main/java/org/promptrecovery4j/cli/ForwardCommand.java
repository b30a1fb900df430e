package org.promptrecovery4j.cli;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.TensorJson;
import org.promptrecovery4j.models.ForwardModel;
import org.promptrecovery4j.models.Models;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code forward}: one forward pass of a HF model folder on token ids, outputs as tensor JSON. */
@Command(
    name = "forward",
    mixinStandardHelpOptions = true,
    description = {
      "Run a model's forward pass on token ids and write its outputs in the tensor JSON format.",
      "Input: {\"input_ids\": [[...]], \"attention_mask\": [[...]]} (other keys ignored; no mask = all ones).",
      "Output: DeBERTa last_hidden_state + hidden_states; a sentence-transformers folder token_embeddings +"
          + " sentence_embedding; T5 last_hidden_state + hidden_states; causal LMs logits."
    })
public final class ForwardCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "HuggingFace model folder")
  Path model;

  @Option(names = "--input", required = true, description = "inputs.json (tensor JSON or plain nested lists)")
  Path input;

  @Option(names = "--output", required = true, description = "where to write the outputs (tensor JSON)")
  Path output;

  @Override
  public Integer call() throws Exception {
    IdsJson in = IdsJson.read(input);
    INDArray ids = in.get("input_ids", true);
    INDArray mask = in.get("attention_mask", false);
    try (ForwardModel m = Models.load(model)) {
      Map<String, Object> out = m.forward(ids, mask);
      TensorJson.write(output, out);
    }
    System.err.println("wrote " + output);
    return 0;
  }
}
