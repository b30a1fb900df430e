package org.promptrecovery4j.weights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens the weights of a model folder or a single checkpoint file, whatever format HuggingFace used. */
public final class Checkpoints {

  /** File names HuggingFace uses, in the order {@code from_pretrained} prefers them. */
  public static final String SAFETENSORS = "model.safetensors";
  public static final String SAFETENSORS_INDEX = "model.safetensors.index.json";
  public static final String PYTORCH_BIN = "pytorch_model.bin";
  public static final String PYTORCH_BIN_INDEX = "pytorch_model.bin.index.json";
  public static final String ONNX = "model.onnx";
  /** Where Xenova / transformers.js exports keep the ONNX model. */
  public static final String ONNX_SUBFOLDER = "onnx/model.onnx";

  private Checkpoints() {}

  /**
   * Opens {@code path}: a {@code .safetensors} file, a {@code .bin} PyTorch file, an index JSON, or a
   * folder holding one of {@value #SAFETENSORS}, {@value #SAFETENSORS_INDEX}, {@value #PYTORCH_BIN},
   * {@value #PYTORCH_BIN_INDEX}, {@value #ONNX} or {@value #ONNX_SUBFOLDER} (safetensors preferred, ONNX last), or an {@code .onnx} file.
   */
  public static WeightSource open(Path path) throws IOException {
    if (Files.isDirectory(path)) {
      for (String name : new String[] {SAFETENSORS, SAFETENSORS_INDEX, PYTORCH_BIN, PYTORCH_BIN_INDEX, ONNX, ONNX_SUBFOLDER}) {
        Path p = path.resolve(name);
        if (Files.isRegularFile(p)) {
          return open(p);
        }
      }
      throw new ModelFormatException(path + ": no weights found (looked for " + SAFETENSORS + ", "
          + SAFETENSORS_INDEX + ", " + PYTORCH_BIN + ", " + PYTORCH_BIN_INDEX + ", " + ONNX + ", " + ONNX_SUBFOLDER + ")");
    }
    if (!Files.isRegularFile(path)) {
      throw new java.io.FileNotFoundException(path + ": no such file or folder");
    }
    String name = path.getFileName().toString();
    if (name.endsWith(".index.json")) {
      return ShardedCheckpoint.open(path, Checkpoints::open);
    }
    if (name.endsWith(".safetensors")) {
      return SafetensorsFile.open(path);
    }
    if (name.endsWith(".bin") || name.endsWith(".pt") || name.endsWith(".pth")) {
      return TorchCheckpoint.open(path);
    }
    if (name.endsWith(".onnx")) {
      return org.promptrecovery4j.weights.onnx.OnnxFile.open(path);
    }
    throw new ModelFormatException(path + ": unknown checkpoint format (expected .safetensors, .bin, .onnx or an index .json)");
  }
}
