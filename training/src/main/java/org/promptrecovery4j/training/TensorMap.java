package org.promptrecovery4j.training;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.weights.DType;
import org.promptrecovery4j.weights.ModelFormatException;
import org.promptrecovery4j.weights.SafetensorsWriter;
import org.promptrecovery4j.weights.TensorInfo;
import org.promptrecovery4j.weights.WeightSource;

/**
 * Named ND4J arrays (FLOAT or LONG) in insertion order, as a {@link WeightSource}, so that
 * {@link SafetensorsWriter} writes them: what {@code safetensors.torch.save_file(state_dict)} writes.
 */
public final class TensorMap implements WeightSource {

  private final Map<String, INDArray> arrays = new LinkedHashMap<>();

  public TensorMap put(String name, INDArray array) {
    if (array.dataType() != DataType.FLOAT && array.dataType() != DataType.LONG) {
      throw new IllegalArgumentException(name + ": only FLOAT and LONG tensors are written, got " + array.dataType());
    }
    arrays.put(name, array);
    return this;
  }

  /** Writes all tensors to {@code file} atomically, with {@code {"format": "pt"}} metadata. */
  public void save(Path file) throws IOException {
    SafetensorsWriter.write(file, this);
  }

  @Override
  public Path location() {
    return Path.of("<memory>");
  }

  @Override
  public List<String> names() {
    return new ArrayList<>(arrays.keySet());
  }

  @Override
  public boolean contains(String name) {
    return arrays.containsKey(name);
  }

  @Override
  public TensorInfo info(String name) {
    INDArray a = arrays.get(name);
    if (a == null) {
      throw new ModelFormatException("no tensor '" + name + "'");
    }
    DType t = a.dataType() == DataType.LONG ? DType.I64 : DType.F32;
    return new TensorInfo(name, t, a.shape(), null, 0, a.length() * t.byteSize());
  }

  /** The array's own native bytes (no copy unless it is a view), little-endian as on every platform ND4J runs on. */
  @Override
  public ByteBuffer bytes(String name) {
    return bytes(name, 0, info(name).byteLength());
  }

  @Override
  public ByteBuffer bytes(String name, long from, long length) {
    INDArray a = arrays.get(name);
    if (a.isView() || a.ordering() != 'c' || a.offset() != 0) {
      a = a.dup('c');
    }
    ByteBuffer all = a.data().asNio().order(ByteOrder.nativeOrder());
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      throw new UnsupportedOperationException("writing safetensors needs a little-endian platform");
    }
    return all.slice(Math.toIntExact(from), Math.toIntExact(length)).order(ByteOrder.LITTLE_ENDIAN);
  }

  @Override
  public void close() {}
}
