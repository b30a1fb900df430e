package org.promptrecovery4j.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.TensorJson;
import org.promptrecovery4j.models.ForwardModel;
import org.promptrecovery4j.models.Models;
import org.promptrecovery4j.models.builtin.BuiltinModels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code forward}: one forward pass of a HF model folder on token ids, outputs as tensor JSON. */
@Command(
    name = "forward",
    mixinStandardHelpOptions = true,
    description = {
      "Run a model's forward pass on token ids and write its outputs in the tensor JSON format.",
      "Input: {\"input_ids\": [[...]], \"attention_mask\": [[...]]} (no mask = all ones); BERT also takes"
          + " \"token_type_ids\" (no key = all zeros); other keys ignored.",
      "Output: DeBERTa last_hidden_state + hidden_states; a sentence-transformers folder token_embeddings +"
          + " sentence_embedding; T5 last_hidden_state + hidden_states; causal LMs logits.",
      "--capture adds the outputs of the named HF modules (e.g. model.layers.3.self_attn.o_proj, model.layers.*.mlp,"
          + " encoder.layer.0.attention.output; * = any run of characters other than '.', ** = anything), in model"
          + " order, after them; --list-modules prints the names a model answers to. docs/numerics-kit.md."
    })
public final class ForwardCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "HuggingFace model folder, or the built-in all-MiniLM-L6-v2")
  String model;

  @Option(names = "--input", description = "inputs.json (tensor JSON or plain nested lists); required unless --list-modules")
  Path input;

  @Option(names = "--adapter", description = "a PEFT LoRA adapter folder, applied to a causal LM")
  Path adapter;

  @Option(names = "--output", description = "where to write the outputs (tensor JSON); required unless --list-modules")
  Path output;

  @Option(names = "--capture", split = ",", paramLabel = "PATTERN",
      description = "HF module names or globs whose outputs to write as well (comma-separated, repeatable)")
  List<String> capture = new ArrayList<>();

  @Option(names = "--list-modules", description = "print the HF module names --capture can ask for, one per line, and exit")
  boolean listModules;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (!listModules && (input == null || output == null)) {
      throw new ParameterException(spec.commandLine(), "--input and --output are required (unless --list-modules)");
    }
    IdsJson in = listModules ? null : IdsJson.read(input);
    try (ForwardModel m = adapter == null ? Models.load(BuiltinModels.resolve(model))
        : org.promptrecovery4j.models.lora.LoraAdapter.load(adapter).loadOnto(BuiltinModels.resolve(model),
            org.promptrecovery4j.models.generation.DecoderOptions.defaults())) {
      if (listModules) {
        m.capturableModules().forEach(System.out::println);
        return 0;
      }
      Map<String, Object> out = m.forward(in.get("input_ids", true), in.get("attention_mask", false),
          in.get("token_type_ids", false), capture);
      TensorJson.write(output, out);
    }
    System.err.println("wrote " + output);
    return 0;
  }
}
