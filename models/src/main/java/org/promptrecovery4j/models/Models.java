package org.promptrecovery4j.models;

import java.io.IOException;
import java.nio.file.Path;
import org.promptrecovery4j.models.bert.BertModel;
import org.promptrecovery4j.models.deberta.DebertaV2Model;
import org.promptrecovery4j.models.gemma.GemmaForCausalLM;
import org.promptrecovery4j.models.generation.CausalLM;
import org.promptrecovery4j.models.generation.DecoderOptions;
import org.promptrecovery4j.models.mistral.MistralForCausalLM;
import org.promptrecovery4j.models.phi.PhiForCausalLM;
import org.promptrecovery4j.models.sentence.SentenceTransformer;
import org.promptrecovery4j.models.t5.T5EncoderModel;
import org.promptrecovery4j.weights.ModelFolder;
import org.promptrecovery4j.weights.llama2c.Llama2cCheckpoint;

/** Loads the architecture a HuggingFace folder holds, by its {@code model_type}. */
public final class Models {

  private Models() {}

  /**
   * Loads {@code dir} for forward passes: a sentence-transformers folder gives its full pipeline,
   * BERT, DeBERTa-v2/v3 and T5 their encoders, phi/mistral/llama/gemma (or a llama2.c file) their causal LM.
   */
  public static ForwardModel load(Path dir) throws IOException {
    if (Llama2cCheckpoint.looksLike(dir)) {
      return loadCausalLM(dir, DecoderOptions.defaults());
    }
    try (ModelFolder folder = ModelFolder.open(dir)) {
      if (folder.isSentenceTransformer()) {
        return SentenceTransformer.load(dir);
      }
      String type = folder.config().modelType();
      return switch (type) {
        case "bert" -> BertModel.load(folder);
        case "deberta-v2" -> DebertaV2Model.load(folder);
        case "t5" -> T5EncoderModel.load(folder);
        case "phi", "mistral", "llama", "gemma" -> loadCausalLM(folder, DecoderOptions.defaults());
        default -> throw new UnsupportedOperationException(dir + ": forward passes for model_type '" + type
            + "' are not implemented");
      };
    }
  }

  /** Loads a causal LM (phi, mistral, llama, gemma) from a HF folder, or a llama2.c checkpoint file. */
  public static CausalLM loadCausalLM(Path dir, DecoderOptions options) throws IOException {
    // the graph holds its own copies of every tensor: the checkpoint (memory-mapped pages count in RSS)
    // is closed once the model is built
    if (Llama2cCheckpoint.looksLike(dir)) {
      try (Llama2cCheckpoint c = Llama2cCheckpoint.open(dir)) {
        return new MistralForCausalLM(c.config(), c, options);
      }
    }
    try (ModelFolder folder = ModelFolder.open(dir)) {
      return loadCausalLM(folder, options);
    }
  }

  public static CausalLM loadCausalLM(ModelFolder folder, DecoderOptions options) throws IOException {
    return switch (folder.config().modelType()) {
      case "phi" -> PhiForCausalLM.load(folder, options);
      case "mistral", "llama" -> MistralForCausalLM.load(folder, options);
      case "gemma" -> GemmaForCausalLM.load(folder, options);
      default -> throw new IllegalArgumentException(folder.dir() + ": model_type '" + folder.config().modelType()
          + "' is not a causal LM (supported: phi, mistral, llama, gemma)");
    };
  }
}
