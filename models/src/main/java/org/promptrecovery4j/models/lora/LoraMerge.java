package org.promptrecovery4j.models.lora;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.AtomicFiles;
import org.promptrecovery4j.weights.ModelFolder;
import org.promptrecovery4j.weights.ModelFolderWriter;
import org.promptrecovery4j.weights.ModelFormatException;
import org.promptrecovery4j.weights.TensorInfo;
import org.promptrecovery4j.weights.WeightSource;

/**
 * PEFT's {@code merge_and_unload()} written as a HF folder: every adapted weight becomes
 * {@code W + scaling · B A}, computed in float32 and stored back in the weight's own dtype (F32, BF16 or F16,
 * rounded to nearest even, as PyTorch's in-place add into a bf16/f16 tensor does); every other tensor is copied
 * byte for byte into one {@code model.safetensors}, and the folder's other files (config, tokenizer, generation
 * config) beside it. The output folder appears whole or not at all.
 */
public final class LoraMerge {

  private LoraMerge() {}

  /** Merges {@code adapterDir} into the model of {@code modelDir} and writes the folder {@code outDir} (must not exist). */
  public static void merge(Path modelDir, Path adapterDir, Path outDir) throws IOException {
    if (Files.exists(outDir)) {
      throw new java.nio.file.FileAlreadyExistsException(outDir + ": already exists; merge-lora writes a new folder");
    }
    LoraAdapter lora = LoraAdapter.load(adapterDir);
    Path staging = AtomicFiles.stagingFolder(outDir);
    try (ModelFolder folder = ModelFolder.open(modelDir)) {
      WeightSource base = folder.weights();
      Map<String, ModelFolderWriter.Tensor> merged = new HashMap<>();
      for (String module : lora.modules().keySet()) {
        String name = module + ".weight";
        if (!base.contains(name)) {
          throw new ModelFormatException(adapterDir + ": the adapter targets " + module + ", but " + base.location()
              + " has no tensor " + name + " (an adapter for another model?)");
        }
        TensorInfo t = base.info(name);
        merged.put(name, new ModelFolderWriter.Tensor(t.dtype(), t.shape(),
            mergedBytes(base, name, lora.deltaWeight(module), adapterDir)));
      }
      ModelFolderWriter.write(modelDir, base, merged, staging);
      if (!AtomicFiles.publishFolder(staging, outDir)) {
        throw new java.nio.file.FileAlreadyExistsException(outDir + ": created by someone else meanwhile");
      }
    } finally {
      AtomicFiles.discardFolder(staging);
    }
  }

  /** {@code W + delta} in the stored dtype of {@code W}, little-endian bytes. */
  static ByteBuffer mergedBytes(WeightSource base, String name, INDArray delta, Path adapterDir) {
    TensorInfo t = base.info(name);
    if (t.shape().length != 2 || t.shape()[0] != delta.size(0) || t.shape()[1] != delta.size(1)) {
      throw new ModelFormatException(adapterDir + ": the update of " + name + " is " + java.util.Arrays.toString(delta.shape())
          + ", the weight is " + t.shapeString());
    }
    if (!t.dtype().isFloatingPoint() || t.dtype() == org.promptrecovery4j.weights.DType.F64) {
      throw new ModelFormatException(base.location() + ": " + name + " is " + t.dtype()
          + "; merging is implemented for F32, BF16 and F16 weights");
    }
    float[] w = base.readFloats(name);
    float[] d = delta.dup('c').data().asFloat();
    for (int i = 0; i < w.length; i++) {
      w[i] += d[i];
    }
    return ModelFolderWriter.encode(t.dtype(), w, name);
  }
}
