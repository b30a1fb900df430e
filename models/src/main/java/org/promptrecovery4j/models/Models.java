package org.promptrecovery4j.models;

import java.io.IOException;
import java.nio.file.Path;
import org.promptrecovery4j.models.deberta.DebertaV2Model;
import org.promptrecovery4j.models.sentence.SentenceTransformer;
import org.promptrecovery4j.models.t5.T5EncoderModel;
import org.promptrecovery4j.weights.ModelFolder;

/** Loads the architecture a HuggingFace folder holds, by its {@code model_type}. */
public final class Models {

  private Models() {}

  /** Loads {@code dir} for forward passes (a sentence-transformers folder gives its full pipeline). */
  public static ForwardModel load(Path dir) throws IOException {
    try (ModelFolder folder = ModelFolder.open(dir)) {
      if (folder.isSentenceTransformer()) {
        return SentenceTransformer.load(dir);
      }
      String type = folder.config().modelType();
      return switch (type) {
        case "deberta-v2" -> DebertaV2Model.load(folder);
        case "t5" -> T5EncoderModel.load(folder);
        default -> throw new UnsupportedOperationException(dir + ": forward passes for model_type '" + type
            + "' are not implemented yet");
      };
    }
  }
}
