package org.promptrecovery4j.models.lora;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.AtomicFiles;
import org.promptrecovery4j.weights.DType;
import org.promptrecovery4j.weights.DTypeConversions;
import org.promptrecovery4j.weights.ModelFolder;
import org.promptrecovery4j.weights.ModelFormatException;
import org.promptrecovery4j.weights.SafetensorsWriter;
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
      Map<String, ByteBuffer> merged = new HashMap<>();
      for (String module : lora.modules().keySet()) {
        String name = module + ".weight";
        if (!base.contains(name)) {
          throw new ModelFormatException(adapterDir + ": the adapter targets " + module + ", but " + base.location()
              + " has no tensor " + name + " (an adapter for another model?)");
        }
        merged.put(name, mergedBytes(base, name, lora.deltaWeight(module), adapterDir));
      }
      SafetensorsWriter.write(staging.resolve("model.safetensors"), new Overlay(base, merged), base.names(),
          Map.of("format", "pt"));
      copyOtherFiles(modelDir, staging);
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
    float[] w = base.readFloats(name);
    float[] d = delta.dup('c').data().asFloat();
    int size = t.dtype().byteSize();
    ByteBuffer out = ByteBuffer.allocate(Math.multiplyExact(w.length, size)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < w.length; i++) {
      float v = w[i] + d[i];
      switch (t.dtype()) {
        case F32 -> out.putFloat(v);
        case BF16 -> out.putShort(DTypeConversions.floatToBf16(v));
        case F16 -> out.putShort(DTypeConversions.floatToF16(v));
        default -> throw new ModelFormatException(base.location() + ": " + name + " is " + t.dtype()
            + "; merging is implemented for F32, BF16 and F16 weights");
      }
    }
    return out.flip();
  }

  /** Copies the folder's files other than weights (config, tokenizer, generation config, chat template). */
  private static void copyOtherFiles(Path modelDir, Path out) throws IOException {
    try (Stream<Path> files = Files.list(modelDir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String n = f.getFileName().toString();
        if (isWeights(n)) {
          continue;
        }
        AtomicFiles.write(out.resolve(n), o -> {
          try (InputStream in = Files.newInputStream(f)) {
            in.transferTo(o);
          }
        });
      }
    }
  }

  private static boolean isWeights(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.endsWith(".safetensors") || n.endsWith(".bin") || n.endsWith(".pt") || n.endsWith(".pth")
        || n.endsWith(".onnx") || n.endsWith(".onnx_data") || n.endsWith(".h5") || n.endsWith(".msgpack")
        || n.endsWith(".index.json") || n.startsWith(".");
  }


  /** The base weights with the merged tensors in place of theirs. */
  private record Overlay(WeightSource base, Map<String, ByteBuffer> merged) implements WeightSource {
    @Override
    public Path location() {
      return base.location();
    }

    @Override
    public List<String> names() {
      return base.names();
    }

    @Override
    public boolean contains(String name) {
      return base.contains(name);
    }

    @Override
    public TensorInfo info(String name) {
      return base.info(name);
    }

    @Override
    public ByteBuffer bytes(String name) {
      ByteBuffer m = merged.get(name);
      return m != null ? m.duplicate().order(ByteOrder.LITTLE_ENDIAN) : base.bytes(name);
    }

    @Override
    public void close() {}
  }
}
