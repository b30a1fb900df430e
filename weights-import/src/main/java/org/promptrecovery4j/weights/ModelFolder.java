package org.promptrecovery4j.weights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.promptrecovery4j.weights.config.ModelConfig;

/**
 * A HuggingFace model folder on disk: {@code config.json} (typed), the weights in whatever format
 * HF wrote, and the tokenizer files beside them. A sentence-transformers folder
 * ({@code modules.json}) keeps its transformer in the root folder, as sentence-t5-base does.
 */
public final class ModelFolder implements AutoCloseable {

  private final Path dir;
  private final ModelConfig config;
  private WeightSource weights;

  private ModelFolder(Path dir, ModelConfig config) {
    this.dir = dir;
    this.config = config;
  }

  /** Opens a folder; the config is parsed at once, the weights when first asked for. */
  public static ModelFolder open(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new java.io.FileNotFoundException(dir + ": not a folder (expected a HuggingFace model folder)");
    }
    Path config = dir.resolve("config.json");
    if (!Files.isRegularFile(config)) {
      throw new ModelFormatException(dir + ": no config.json (is this a HuggingFace model folder?)");
    }
    return new ModelFolder(dir, ModelConfig.read(config));
  }

  public Path dir() {
    return dir;
  }

  public ModelConfig config() {
    return config;
  }

  /** The weights, opened on first use (safetensors preferred over pytorch_model.bin). */
  public synchronized WeightSource weights() throws IOException {
    if (weights == null) {
      weights = Checkpoints.open(dir);
    }
    return weights;
  }

  /** True for a sentence-transformers folder ({@code modules.json} beside config.json). */
  public boolean isSentenceTransformer() {
    return Files.isRegularFile(dir.resolve("modules.json"));
  }

  /** A file of the folder if it exists (e.g. {@code tokenizer.json}, {@code spm.model}). */
  public Optional<Path> file(String name) {
    Path p = dir.resolve(name);
    return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
  }

  @Override
  public synchronized void close() throws IOException {
    if (weights != null) {
      weights.close();
      weights = null;
    }
  }
}
