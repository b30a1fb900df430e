package org.promptrecovery4j.weights;

import java.util.Arrays;
import java.util.stream.Collectors;
import org.nd4j.linalg.api.buffer.DataType;

/** Tensor element types as HuggingFace safetensors names them. */
public enum DType {
  F64(8, DataType.DOUBLE),
  F32(4, DataType.FLOAT),
  F16(2, DataType.HALF),
  BF16(2, DataType.BFLOAT16),
  I64(8, DataType.LONG),
  I32(4, DataType.INT),
  I16(2, DataType.SHORT),
  I8(1, DataType.BYTE),
  U8(1, DataType.UBYTE),
  BOOL(1, DataType.BOOL);

  private final int byteSize;
  private final DataType nd4j;

  DType(int byteSize, DataType nd4j) {
    this.byteSize = byteSize;
    this.nd4j = nd4j;
  }

  public int byteSize() {
    return byteSize;
  }

  public boolean isFloatingPoint() {
    return this == F64 || this == F32 || this == F16 || this == BF16;
  }

  /** The ND4J type an array of this dtype keeps without conversion. */
  public DataType nd4j() {
    return nd4j;
  }

  /** Parses a safetensors dtype string; the error names the tensor and the accepted names. */
  public static DType parse(String name, String where) {
    for (DType d : values()) {
      if (d.name().equals(name)) {
        return d;
      }
    }
    throw new ModelFormatException(
        where + ": unknown dtype '" + name + "' (supported: "
            + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")) + ")");
  }
}
