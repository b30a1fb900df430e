package org.promptrecovery4j.weights;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.promptrecovery4j.core.AtomicFiles;

/**
 * Writes a HuggingFace model folder that is another one with some tensors replaced (a merged LoRA adapter, trained
 * layers): one {@code model.safetensors} holding every tensor of the base checkpoint under its name, in its order,
 * the replaced ones with their new bytes (and dtype, when they bring one) and every other one copied byte for byte
 * as stored; and the base folder's other files (config, tokenizer, generation config, chat template) copied byte for
 * byte beside it. Callers write into a staging folder ({@link AtomicFiles#stagingFolder}) and publish it whole.
 */
public final class ModelFolderWriter {

  /** The weights file the folder gets. */
  public static final String WEIGHTS = Checkpoints.SAFETENSORS;

  /** New content for one tensor: its dtype and shape (the base tensor's shape) and its little-endian bytes. */
  public record Tensor(DType dtype, long[] shape, ByteBuffer bytes) {}

  private ModelFolderWriter() {}

  /**
   * Writes {@value #WEIGHTS} (the tensors of {@code base}, those of {@code replaced} replaced) and the non-weight
   * files of {@code modelDir} into the existing folder {@code folder}. A replacement for a tensor the base does not
   * hold, of another shape, or whose bytes do not fill its dtype and shape is an error naming it.
   */
  public static void write(Path modelDir, WeightSource base, Map<String, Tensor> replaced, Path folder)
      throws IOException {
    for (Map.Entry<String, Tensor> e : replaced.entrySet()) {
      String name = e.getKey();
      Tensor t = e.getValue();
      if (!base.contains(name)) {
        throw new ModelFormatException(base.location() + ": no tensor '" + name + "' to replace");
      }
      TensorInfo info = base.info(name);
      if (!Arrays.equals(info.shape(), t.shape())) {
        throw new ModelFormatException(base.location() + ": tensor '" + name + "' is " + info.shapeString()
            + ", its replacement " + Arrays.toString(t.shape()));
      }
      if (t.bytes().remaining() != info.numel() * t.dtype().byteSize()) {
        throw new ModelFormatException("the replacement of '" + name + "' holds " + t.bytes().remaining()
            + " bytes, " + t.dtype() + " " + Arrays.toString(t.shape()) + " needs " + info.numel() * t.dtype().byteSize());
      }
    }
    SafetensorsWriter.write(folder.resolve(WEIGHTS), new Overlay(base, replaced), base.names(), Map.of("format", "pt"));
    copyNonWeightFiles(modelDir, folder);
  }

  /** Copies the files of {@code modelDir} other than weights (config, tokenizer, generation config, chat template). */
  public static void copyNonWeightFiles(Path modelDir, Path folder) throws IOException {
    try (Stream<Path> files = Files.list(modelDir)) {
      for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
        String n = f.getFileName().toString();
        if (isWeights(n)) {
          continue;
        }
        AtomicFiles.write(folder.resolve(n), o -> {
          try (InputStream in = Files.newInputStream(f)) {
            in.transferTo(o);
          }
        });
      }
    }
  }

  /** Weight files (any format, shards and their indexes) and hidden files, which a written folder does not copy. */
  static boolean isWeights(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.endsWith(".safetensors") || n.endsWith(".bin") || n.endsWith(".pt") || n.endsWith(".pth")
        || n.endsWith(".onnx") || n.endsWith(".onnx_data") || n.endsWith(".h5") || n.endsWith(".msgpack")
        || n.endsWith(".index.json") || n.startsWith(".");
  }

  /**
   * {@code values} as little-endian bytes of {@code dtype} (F32, BF16 or F16; rounded to nearest even, as PyTorch's
   * {@code .to(dtype)} does), e.g. a tensor computed in float32 stored back in its checkpoint's dtype.
   */
  public static ByteBuffer encode(DType dtype, float[] values, String name) {
    ByteBuffer out = ByteBuffer.allocate(Math.multiplyExact(values.length, dtype.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      switch (dtype) {
        case F32 -> out.putFloat(v);
        case BF16 -> out.putShort(DTypeConversions.floatToBf16(v));
        case F16 -> out.putShort(DTypeConversions.floatToF16(v));
        default -> throw new ModelFormatException(name + " is " + dtype + "; only F32, BF16 and F16 tensors are written");
      }
    }
    return out.flip();
  }

  /** The base weights with the replaced tensors in place of theirs. */
  private record Overlay(WeightSource base, Map<String, Tensor> replaced) implements WeightSource {
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
      Tensor t = replaced.get(name);
      if (t == null) {
        return base.info(name);
      }
      TensorInfo b = base.info(name);
      return new TensorInfo(name, t.dtype(), t.shape(), null, -1, b.numel() * t.dtype().byteSize());
    }

    @Override
    public ByteBuffer bytes(String name) {
      Tensor t = replaced.get(name);
      return t != null ? t.bytes().duplicate().order(ByteOrder.LITTLE_ENDIAN) : base.bytes(name);
    }

    @Override
    public ByteBuffer bytes(String name, long from, long length) {
      Tensor t = replaced.get(name);
      if (t == null) {
        return base.bytes(name, from, length);
      }
      return t.bytes().duplicate().slice(Math.toIntExact(from), Math.toIntExact(length)).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void close() {}
  }
}
