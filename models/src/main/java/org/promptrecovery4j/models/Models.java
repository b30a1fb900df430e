package org.promptrecovery4j.models;

import java.io.IOException;
import java.nio.file.Path;
import org.promptrecovery4j.weights.ModelFolder;
import org.promptrecovery4j.weights.config.ModelConfig;

/** Loads the architecture a HuggingFace folder holds, by its {@code model_type}. */
public final class Models {

  private Models() {}

  /** Loads {@code dir} for forward passes (a sentence-transformers folder gives its full pipeline). */
  public static ForwardModel load(Path dir) throws IOException {
    ModelFolder folder = ModelFolder.open(dir);
    ModelConfig config = folder.config();
    throw new UnsupportedOperationException(dir + ": forward passes for model_type '" + config.modelType()
        + "' are not implemented yet");
  }
}
