package org.promptrecovery4j.weights.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Hand-encodes the few ONNX protobuf messages the tests need (ModelProto, GraphProto, NodeProto, TensorProto). */
final class OnnxBuilder {

  static final int FLOAT = 1, INT64 = 7, FLOAT16 = 10, BFLOAT16 = 16, STRING = 8, INT32 = 6;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  static OnnxBuilder message() {
    return new OnnxBuilder();
  }

  byte[] bytes() {
    return out.toByteArray();
  }

  OnnxBuilder varint(int field, long v) {
    key(field, 0);
    rawVarint(v);
    return this;
  }

  OnnxBuilder len(int field, byte[] b) {
    key(field, 2);
    rawVarint(b.length);
    out.writeBytes(b);
    return this;
  }

  OnnxBuilder str(int field, String s) {
    return len(field, s.getBytes(StandardCharsets.UTF_8));
  }

  OnnxBuilder fixed32(int field, int v) {
    key(field, 5);
    for (int i = 0; i < 4; i++) {
      out.write(v >>> (8 * i));
    }
    return this;
  }

  OnnxBuilder raw(byte[] b) {
    out.writeBytes(b);
    return this;
  }

  private void key(int field, int wt) {
    rawVarint((long) field << 3 | wt);
  }

  void rawVarint(long v) {
    while ((v & ~0x7FL) != 0) {
      out.write((int) (v & 0x7F) | 0x80);
      v >>>= 7;
    }
    out.write((int) v);
  }

  static byte[] packedVarints(long... v) {
    OnnxBuilder b = new OnnxBuilder();
    for (long x : v) {
      b.rawVarint(x);
    }
    return b.bytes();
  }

  /** A TensorProto head: name, data type, dims (packed). */
  static OnnxBuilder tensor(String name, int dataType, long... dims) {
    return message().len(1, packedVarints(dims)).varint(2, dataType).str(8, name);
  }

  static byte[] rawTensor(String name, int dataType, byte[] raw, long... dims) {
    return tensor(name, dataType, dims).len(9, raw).bytes();
  }

  static byte[] floatTensor(String name, float[] v, long... dims) {
    return rawTensor(name, FLOAT, floats(v), dims);
  }

  /** float_data, packed. */
  static byte[] typedFloatTensor(String name, float[] v, long... dims) {
    return tensor(name, FLOAT, dims).len(4, floats(v)).bytes();
  }

  static byte[] externalTensor(String name, int dataType, Map<String, String> data, long... dims) {
    OnnxBuilder t = tensor(name, dataType, dims);
    for (Map.Entry<String, String> e : data.entrySet()) {
      t.len(13, message().str(1, e.getKey()).str(2, e.getValue()).bytes());
    }
    return t.varint(14, 1).bytes();
  }

  static byte[] node(String op, String[] inputs, String... outputs) {
    OnnxBuilder n = message();
    for (String i : inputs) {
      n.str(1, i);
    }
    for (String o : outputs) {
      n.str(2, o);
    }
    return n.str(3, op + "_node").str(4, op).bytes();
  }

  /** A ModelProto holding one graph of these nodes and initializers. */
  static byte[] model(byte[][] nodes, byte[]... initializers) {
    OnnxBuilder g = message();
    for (byte[] n : nodes) {
      g.len(1, n);
    }
    g.str(2, "main_graph");
    for (byte[] t : initializers) {
      g.len(5, t);
    }
    return message().varint(1, 8).str(2, "pytorch").len(7, g.bytes())
        .len(8, message().str(1, "").varint(2, 17).bytes()).bytes();
  }

  static byte[] floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.array();
  }

  static byte[] longs(long... v) {
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long f : v) {
      b.putLong(f);
    }
    return b.array();
  }
}
