package org.promptrecovery4j.weights.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.promptrecovery4j.weights.onnx.OnnxBuilder.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.weights.Checkpoints;
import org.promptrecovery4j.weights.DType;
import org.promptrecovery4j.weights.ModelFormatException;
import org.promptrecovery4j.weights.WeightSource;

class OnnxFileTest {

  @TempDir Path tmp;

  static final String Q = "encoder.layer.0.attention.self.query";
  static final String O = "encoder.layer.0.output.dense";

  /** A graph as torch.onnx.export writes it: Linear weights renamed onnx::MatMul_N, stored [in, out]. */
  static byte[] torchStyleModel() {
    float[] emb = seq(20, 0.5f); // [5, 4]
    float[] qT = seq(12, -1f); // [in 4, out 3]
    float[] oT = seq(6, 2f); // [in 3, out 2]
    return model(new byte[][] {
        node("Gather", new String[] {"embeddings.word_embeddings.weight", "input_ids"}, "/embeddings/Gather_output_0"),
        node("MatMul", new String[] {"/embeddings/Gather_output_0", "onnx::MatMul_101"}, "/q/MatMul_output_0"),
        node("Add", new String[] {Q + ".bias", "/q/MatMul_output_0"}, "/q/Add_output_0"),
        node("Reshape", new String[] {"/q/Add_output_0", "onnx::Reshape_7"}, "/r"),
        node("Div", new String[] {"/r", "/Constant_output_0"}, "/d"),
        node("MatMul", new String[] {"/d", "onnx::MatMul_102"}, "/o/MatMul_output_0"),
        node("Add", new String[] {"/o/MatMul_output_0", O + ".bias"}, "last_hidden_state")},
        floatTensor("embeddings.word_embeddings.weight", emb, 5, 4),
        floatTensor(Q + ".bias", new float[] {0.1f, 0.2f, 0.3f}, 3),
        floatTensor("onnx::MatMul_101", qT, 4, 3),
        rawTensor("onnx::Reshape_7", INT64, longs(1, -1, 3), 3),
        floatTensor("/Constant_output_0", new float[] {8f}),
        typedFloatTensor(O + ".bias", new float[] {-0.5f, 0.25f}, 2),
        floatTensor("onnx::MatMul_102", oT, 3, 2));
  }

  static float[] seq(int n, float start) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = start + i * 0.125f;
    }
    return v;
  }

  Path write(String name, byte[] b) throws IOException {
    Path p = tmp.resolve(name);
    Files.write(p, b);
    return p;
  }

  @Test
  void recoversHfNamesOfRenamedLinearWeightsAndTransposesThem() throws IOException {
    Path f = write("model.onnx", torchStyleModel());
    try (OnnxFile o = OnnxFile.open(f)) {
      assertThat(o.names()).containsExactly("embeddings.word_embeddings.weight", Q + ".bias", Q + ".weight",
          O + ".bias", O + ".weight");
      assertThat(o.droppedConstants()).containsExactly("onnx::Reshape_7", "/Constant_output_0");
      assertThat(o.onnxName(Q + ".weight")).isEqualTo("onnx::MatMul_101");
      assertThat(o.info(Q + ".weight").shape()).containsExactly(3, 4);
      assertThat(o.info(O + ".weight").shape()).containsExactly(2, 3);
      float[] qT = seq(12, -1f);
      float[] q = o.readFloats(Q + ".weight");
      for (int out = 0; out < 3; out++) {
        for (int in = 0; in < 4; in++) {
          assertThat(q[out * 4 + in]).isEqualTo(qT[in * 3 + out]);
        }
      }
      assertThat(o.readFloats(O + ".bias")).containsExactly(-0.5f, 0.25f);
      assertThat(o.readFloats("embeddings.word_embeddings.weight")).containsExactly(seq(20, 0.5f));
      assertThat(o.loadFloat(O + ".weight").shape()).containsExactly(2, 3);
      assertThat(o.parameterCount()).isEqualTo(20 + 3 + 12 + 2 + 6);
    }
  }

  @Test
  void checkpointsOpensAnOnnxFileAndAFolderWithModelOnnx() throws IOException {
    write("model.onnx", torchStyleModel());
    try (WeightSource a = Checkpoints.open(tmp); WeightSource b = Checkpoints.open(tmp.resolve("model.onnx"))) {
      assertThat(a).isInstanceOf(OnnxFile.class);
      assertThat(a.names()).isEqualTo(b.names()).contains(Q + ".weight");
    }
  }

  @Test
  void readsFloat16Bfloat16AndInt64FromRawDataAndTypedFields() throws IOException {
    short h1 = (short) 0x3C00; // 1.0
    short h2 = (short) 0xC000; // -2.0
    short b1 = (short) 0x3FC0; // 1.5
    short b2 = (short) 0xBF80; // -1.0
    byte[] rawHalf = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort(h1).putShort(h2).array();
    byte[] m = model(new byte[0][],
        rawTensor("h.raw", FLOAT16, rawHalf, 2),
        tensor("h.typed", FLOAT16, 2).len(5, packedVarints(h1 & 0xFFFF, h2 & 0xFFFF)).bytes(),
        tensor("b.typed", BFLOAT16, 1, 2).varint(5, b1 & 0xFFFF).varint(5, b2 & 0xFFFF).bytes(),
        rawTensor("b.raw", BFLOAT16, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort(b1).putShort(b2)
            .array(), 2),
        tensor("i.typed", INT64, 3).len(7, packedVarints(7, -3, Long.MAX_VALUE)).bytes(),
        rawTensor("i.raw", INT64, longs(-1, 1L << 40), 2),
        tensor("f.unpacked", FLOAT, 2).fixed32(4, Float.floatToIntBits(3.5f)).fixed32(4, Float.floatToIntBits(-0f))
            .bytes(),
        tensor("empty", FLOAT, 0, 4).bytes(),
        tensor("i32.typed", INT32, 2).len(5, packedVarints(-5, 9)).bytes());
    try (OnnxFile o = OnnxFile.open(write("types.onnx", m))) {
      assertThat(o.info("h.raw").dtype()).isEqualTo(DType.F16);
      assertThat(o.readFloats("h.raw")).containsExactly(1f, -2f);
      assertThat(o.readFloats("h.typed")).containsExactly(1f, -2f);
      assertThat(o.info("b.typed").dtype()).isEqualTo(DType.BF16);
      assertThat(o.readFloats("b.typed")).containsExactly(1.5f, -1f);
      assertThat(o.readFloats("b.raw")).containsExactly(1.5f, -1f);
      assertThat(o.load("i.typed").toLongVector()).containsExactly(7, -3, Long.MAX_VALUE);
      assertThat(o.load("i.raw").toLongVector()).containsExactly(-1, 1L << 40);
      assertThat(o.readFloats("f.unpacked")).containsExactly(3.5f, -0f);
      assertThat(o.info("empty").numel()).isZero();
      assertThat(o.readFloats("empty")).isEmpty();
      assertThat(o.load("i32.typed").toIntVector()).containsExactly(-5, 9);
    }
  }

  @Test
  void readsExternalDataBesideTheModel() throws IOException {
    write("weights.bin", concat(new byte[8], floats(1f, 2f, 3f, 4f, 5f, 6f)));
    Map<String, String> d = new LinkedHashMap<>();
    d.put("location", "weights.bin");
    d.put("offset", "8");
    d.put("length", "24");
    Path f = write("ext.onnx", model(new byte[0][], externalTensor("w", FLOAT, d, 2, 3),
        externalTensor("tail", FLOAT, Map.of("location", "./weights.bin", "offset", "24"), 2)));
    try (OnnxFile o = OnnxFile.open(f)) {
      assertThat(o.readFloats("w")).containsExactly(1f, 2f, 3f, 4f, 5f, 6f);
      assertThat(o.readFloats("tail")).containsExactly(5f, 6f);
      assertThat(o.info("w").file().getFileName().toString()).isEqualTo("weights.bin");
    }
  }

  @Test
  void refusesExternalDataOutsideTheModelsFolder() throws IOException {
    Path sub = Files.createDirectory(tmp.resolve("model"));
    Files.write(tmp.resolve("secret.bin"), floats(1f, 2f));
    for (String loc : new String[] {"../secret.bin", tmp.resolve("secret.bin").toString(), "a/../../secret.bin"}) {
      Path f = sub.resolve("m.onnx");
      Files.write(f, model(new byte[0][], externalTensor("w", FLOAT, Map.of("location", loc), 2)));
      assertThatThrownBy(() -> OnnxFile.open(f)).isInstanceOf(ModelFormatException.class)
          .hasMessageContaining(f.toString()).hasMessageContaining("'w'").hasMessageContaining("outside the model's folder");
    }
    Path f = sub.resolve("m.onnx");
    Files.createSymbolicLink(sub.resolve("link.bin"), tmp.resolve("secret.bin"));
    Files.write(f, model(new byte[0][], externalTensor("w", FLOAT, Map.of("location", "link.bin"), 2)));
    assertThatThrownBy(() -> OnnxFile.open(f)).isInstanceOf(ModelFormatException.class).hasMessageContaining("through a link");
    Files.write(f, model(new byte[0][], externalTensor("w", FLOAT, Map.of("location", "missing.bin"), 2)));
    assertThatThrownBy(() -> OnnxFile.open(f)).hasMessageContaining("not found");
    Files.write(sub.resolve("short.bin"), floats(1f));
    Files.write(f, model(new byte[0][], externalTensor("w", FLOAT, Map.of("location", "short.bin"), 2)));
    assertThatThrownBy(() -> OnnxFile.open(f)).hasMessageContaining("runs past the end");
  }

  @Test
  void unmappedRenamedWeightIsAnErrorNamingIt() throws IOException {
    byte[] m = model(new byte[][] {node("MatMul", new String[] {"x", "onnx::MatMul_9"}, "y")},
        floatTensor("onnx::MatMul_9", seq(6, 0f), 2, 3));
    Path f = write("model.onnx", m);
    assertThatThrownBy(() -> OnnxFile.open(f)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining(f.toString()).hasMessageContaining("'onnx::MatMul_9'").hasMessageContaining("no HF name");
  }

  @Test
  void badInputsAreNamedErrors() throws IOException {
    byte[] good = torchStyleModel();
    expect("truncated.onnx", Arrays.copyOf(good, good.length / 2), "runs past the end");
    expect("text.onnx", "hello, I am not ONNX\n".getBytes(), "");
    expect("empty.onnx", new byte[0], "empty file");
    expect("nograph.onnx", message().varint(1, 8).bytes(), "no graph");
    expect("unknown.onnx", model(new byte[0][], rawTensor("w", 99, new byte[4], 1)), "unknown data type 99");
    expect("string.onnx", model(new byte[0][], tensor("s", STRING, 1).str(6, "x").bytes()), "(STRING), which is not supported");
    expect("count.onnx", model(new byte[0][], floatTensor("w", new float[] {1f, 2f, 3f}, 2, 2)),
        "'w': raw_data holds 12 bytes but shape [2, 2] of F32 needs 16");
    expect("typedcount.onnx", model(new byte[0][], typedFloatTensor("w", new float[] {1f}, 2)),
        "float_data holds 1 values but shape [2] needs 2");
    expect("nodata.onnx", model(new byte[0][], tensor("w", FLOAT, 2).bytes()), "no data");
    expect("wrongfield.onnx", model(new byte[0][], tensor("w", FLOAT16, 1).len(4, floats(1f)).bytes()),
        "FLOAT16 but has values in float_data");
    expect("dup.onnx", model(new byte[0][], floatTensor("w", new float[] {1f}, 1), floatTensor("w", new float[] {2f}, 1)),
        "duplicate initializer name 'w'");
    expect("sparse.onnx", message().varint(1, 8).len(7, message().len(15, new byte[0]).bytes()).bytes(),
        "sparse initializers");
    expect("twonames.onnx", model(new byte[][] {node("MatMul", new String[] {"x", "onnx::MatMul_1"}, "y"),
        node("Add", new String[] {"y", "a.bias"}, "z")}, floatTensor("a.bias", new float[] {1f}, 1),
        floatTensor("a.weight", new float[] {1f}, 1, 1), floatTensor("onnx::MatMul_1", new float[] {2f}, 1, 1)),
        "two initializers map to the HF name 'a.weight'");
    expect("overflow.onnx", model(new byte[0][], rawTensor("w", FLOAT, new byte[4], 1L << 40, 1L << 40)), "overflows");
    expect("hugelen.onnx", message().varint(1, 8).raw(new byte[] {0x3A, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x7F}).bytes(),
        "runs past the end");
  }

  private void expect(String name, byte[] content, String message) throws IOException {
    Path f = write(name, content);
    assertThatThrownBy(() -> {
      try (OnnxFile o = OnnxFile.open(f)) {
        for (String n : o.names()) {
          o.bytes(n);
        }
      }
    }).as(name).isInstanceOf(ModelFormatException.class).hasMessageContaining(f.toString()).hasMessageContaining(message);
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  /**
   * Writes {@code fixtures/onnx/tiny-linear/}: {@code -Dpr4j.onnx.fixture=DIR}. {@code expected.safetensors} holds
   * the HF-named tensors built here from the source arrays (not through {@link OnnxFile}): the Linear weights
   * [out, in], as a PyTorch state_dict stores them.
   */
  @Test
  void writeFixture() throws IOException {
    String dir = System.getProperty("pr4j.onnx.fixture");
    if (dir == null) {
      return;
    }
    Path d = Files.createDirectories(Path.of(dir));
    Files.write(d.resolve("model.onnx"), torchStyleModel());
    float[] qT = seq(12, -1f);
    float[] oT = seq(6, 2f);
    Map<String, Object[]> t = new LinkedHashMap<>(); // name -> {shape, values}
    t.put("embeddings.word_embeddings.weight", new Object[] {new long[] {5, 4}, seq(20, 0.5f)});
    t.put(Q + ".bias", new Object[] {new long[] {3}, new float[] {0.1f, 0.2f, 0.3f}});
    t.put(Q + ".weight", new Object[] {new long[] {3, 4}, transposed(qT, 4, 3)});
    t.put(O + ".bias", new Object[] {new long[] {2}, new float[] {-0.5f, 0.25f}});
    t.put(O + ".weight", new Object[] {new long[] {2, 3}, transposed(oT, 3, 2)});
    StringBuilder header = new StringBuilder("{");
    java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
    for (Map.Entry<String, Object[]> e : t.entrySet()) {
      byte[] b = floats((float[]) e.getValue()[1]);
      header.append(header.length() > 1 ? "," : "").append('"').append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":")
          .append(Arrays.toString((long[]) e.getValue()[0]).replace(" ", "")).append(",\"data_offsets\":[")
          .append(data.size()).append(',').append(data.size() + b.length).append("]}");
      data.writeBytes(b);
    }
    byte[] h = header.append('}').toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    Files.write(d.resolve("expected.safetensors"), concat(concat(longs(h.length), h), data.toByteArray()));
  }

  static float[] transposed(float[] v, int rows, int cols) {
    float[] out = new float[v.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        out[c * rows + r] = v[r * cols + c];
      }
    }
    return out;
  }

  @Test
  void committedFixtureMatchesItsExpectedTensorsExactly() throws IOException {
    Path d = Path.of(System.getProperty("pr4j.fixtures", "../fixtures")).resolve("onnx/tiny-linear");
    try (OnnxFile o = OnnxFile.open(d.resolve("model.onnx"));
        WeightSource e = Checkpoints.open(d.resolve("expected.safetensors"))) {
      assertThat(o.names()).containsExactlyElementsOf(e.names());
      for (String n : e.names()) {
        assertThat(o.info(n).shape()).as(n).isEqualTo(e.info(n).shape());
        assertThat(o.bytes(n)).as(n).isEqualTo(e.bytes(n));
      }
    }
  }

  /**
   * A tiny random BertModel exported by {@code torch.onnx.export} (tools/reference/onnx_fixtures.py): 39
   * initializers, 12 of them {@code onnx::MatMul_N}; every tensor equals the state_dict's, bit for bit.
   */
  @Test
  void torchExportOfATinyBertGivesItsStateDictExactly() throws IOException {
    Path d = Path.of(System.getProperty("pr4j.fixtures", "../fixtures")).resolve("onnx/tiny-bert");
    try (OnnxFile o = OnnxFile.open(d.resolve("model.onnx"));
        WeightSource e = Checkpoints.open(d.resolve("expected.safetensors"))) {
      assertThat(o.names()).containsExactlyInAnyOrderElementsOf(e.names()).hasSize(39);
      assertThat(o.names().stream().filter(n -> o.onnxName(n).startsWith("onnx::MatMul_"))).hasSize(12)
          .contains("encoder.layer.1.attention.self.query.weight", "encoder.layer.0.output.dense.weight");
      assertThat(o.droppedConstants()).isEmpty();
      for (String n : e.names()) {
        assertThat(o.info(n).dtype()).as(n).isEqualTo(e.info(n).dtype());
        assertThat(o.info(n).shape()).as(n).isEqualTo(e.info(n).shape());
        assertThat(o.bytes(n)).as(n).isEqualTo(e.bytes(n));
      }
    }
  }

  /** onnx.helper's files: each data type in its typed field and in raw_data, and in an external data file. */
  @Test
  void onnxHelperTypedRawAndExternalInitializersMatchTorch() throws IOException {
    Path d = Path.of(System.getProperty("pr4j.fixtures", "../fixtures")).resolve("onnx/edge");
    try (OnnxFile types = OnnxFile.open(d.resolve("types.onnx"));
        OnnxFile ext = OnnxFile.open(d.resolve("external.onnx"));
        WeightSource e = Checkpoints.open(d.resolve("expected.safetensors"))) {
      assertThat(types.names()).containsExactlyInAnyOrderElementsOf(e.names()).hasSize(8);
      assertThat(ext.names()).hasSize(6).doesNotContain("bf16.raw", "bf16.typed");
      for (String n : e.names()) {
        assertThat(types.info(n).dtype()).as(n).isEqualTo(e.info(n).dtype());
        assertThat(types.info(n).shape()).as(n).isEqualTo(e.info(n).shape());
        assertThat(types.bytes(n)).as(n).isEqualTo(e.bytes(n));
        if (ext.contains(n)) {
          assertThat(ext.info(n).file().getFileName().toString()).isEqualTo("external.weights");
          assertThat(ext.info(n).shape()).as(n).isEqualTo(e.info(n).shape());
          assertThat(ext.bytes(n)).as(n).isEqualTo(e.bytes(n));
        }
      }
    }
  }

  /** Writes the fuzz seeds: {@code -Dpr4j.onnx.seeds=DIR}. */
  @Test
  void writeFuzzSeeds() throws IOException {
    String dir = System.getProperty("pr4j.onnx.seeds");
    if (dir == null) {
      return;
    }
    Path d = Files.createDirectories(Path.of(dir));
    Files.write(d.resolve("torch-style"), torchStyleModel());
    Files.write(d.resolve("typed-fields"), model(new byte[0][],
        tensor("h", FLOAT16, 2).len(5, packedVarints(0x3C00, 0xC000)).bytes(),
        tensor("b", BFLOAT16, 1, 2).varint(5, 0x3FC0).varint(5, 0xBF80).bytes(),
        tensor("i", INT64, 2).len(7, packedVarints(7, -3)).bytes(),
        tensor("f", FLOAT, 1).fixed32(4, Float.floatToIntBits(3.5f)).bytes(),
        rawTensor("r", BFLOAT16, new byte[] {1, 2}, 1)));
    Files.write(d.resolve("external-missing"), model(new byte[0][],
        externalTensor("w", FLOAT, Map.of("location", "w.bin", "offset", "0"), 2)));
  }
}
