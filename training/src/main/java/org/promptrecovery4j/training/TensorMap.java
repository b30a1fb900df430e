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

  @Override
  public ByteBuffer bytes(String name) {
    INDArray a = arrays.get(name);
    ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(info(name).byteLength())).order(ByteOrder.LITTLE_ENDIAN);
    if (a.dataType() == DataType.LONG) {
      b.asLongBuffer().put(a.dup('c').data().asLong());
    } else {
      b.asFloatBuffer().put(a.dup('c').data().asFloat());
    }
    return b;
  }

  @Override
  public void close() {}
}
