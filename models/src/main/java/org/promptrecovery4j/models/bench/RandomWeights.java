package org.promptrecovery4j.models.bench;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.weights.DType;
import org.promptrecovery4j.weights.ModelFormatException;
import org.promptrecovery4j.weights.TensorInfo;
import org.promptrecovery4j.weights.WeightSource;

/**
 * Random float32 weights by HF name and shape, made when first loaded (for benchmarks at real sizes
 * without a checkpoint): N(0, 0.02²), norm weights 1. Deterministic per name.
 */
public final class RandomWeights implements WeightSource {

  private final Map<String, long[]> shapes = new LinkedHashMap<>();

  public RandomWeights put(String name, long... shape) {
    shapes.put(name, shape);
    return this;
  }

  @Override
  public Path location() {
    return Path.of("<random weights>");
  }

  @Override
  public List<String> names() {
    return new ArrayList<>(shapes.keySet());
  }

  @Override
  public boolean contains(String name) {
    return shapes.containsKey(name);
  }

  @Override
  public TensorInfo info(String name) {
    long[] s = shapes.get(name);
    if (s == null) {
      throw new ModelFormatException(location() + ": missing tensor '" + name + "'");
    }
    long n = 1;
    for (long d : s) {
      n *= d;
    }
    return new TensorInfo(name, DType.F32, s, null, 0, n * 4);
  }

  @Override
  public ByteBuffer bytes(String name) {
    throw new UnsupportedOperationException("random weights have no stored bytes");
  }

  @Override
  public INDArray loadFloat(String name) {
    long[] s = info(name).shape();
    if (name.endsWith("LayerNorm.weight") || name.endsWith("layer_norm.weight")) {
      return Nd4j.ones(DataType.FLOAT, s);
    }
    Nd4j.getRandom().setSeed(name.hashCode());
    return Nd4j.randn(DataType.FLOAT, s).muli(0.02);
  }

  @Override
  public void close() {}
}
