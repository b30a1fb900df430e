package org.promptrecovery4j.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class SafetensorsFileTest {

  static final Path FIXTURES = Path.of(System.getProperty("pr4j.fixtures", "../fixtures"));

  @TempDir Path tmp;

  /** A safetensors file from a raw header and data section. */
  static Path file(Path dir, String name, String header, byte[] data) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h).put(data);
    Path p = dir.resolve(name);
    Files.write(p, b.array());
    return p;
  }

  static byte[] floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      b.putFloat(x);
    }
    return b.array();
  }

  @Test
  void readsTheShardedBf16FixtureExactlyAsTorchUpcastsIt() throws IOException {
    Path dir = FIXTURES.resolve("tiny-mistral-bf16-sharded");
    JsonNode expected = new ObjectMapper().readTree(dir.resolve("expected.json").toFile());
    try (WeightSource w = Checkpoints.open(dir)) {
      assertThat(w).isInstanceOf(ShardedCheckpoint.class);
      assertThat(((ShardedCheckpoint) w).shards()).hasSize(expected.get("num_shards").asInt());
      assertThat(w.parameterCount()).isEqualTo(expected.get("num_parameters").asLong());
      assertThat(w.names()).hasSize(expected.get("tensors").size());
      expected.get("tensors").fields().forEachRemaining(e -> {
        TensorInfo t = w.info(e.getKey());
        JsonNode x = e.getValue();
        assertThat(t.dtype()).isEqualTo(DType.BF16);
        assertThat(t.shape()).containsExactly(new ObjectMapper().convertValue(x.get("shape"), long[].class));
        float[] v = w.readFloats(e.getKey());
        double sum = 0;
        double abs = 0;
        for (float f : v) {
          sum += f;
          abs += Math.abs(f);
        }
        assertThat(sum).as(e.getKey()).isCloseTo(x.get("sum").asDouble(), within(1e-9));
        assertThat(abs).as(e.getKey()).isCloseTo(x.get("abs_sum").asDouble(), within(1e-9));
        for (int i = 0; i < x.get("first").size(); i++) {
          assertThat(v[i]).isEqualTo((float) x.get("first").get(i).asDouble());
        }
        INDArray a = w.loadFloat(e.getKey());
        assertThat(a.dataType()).isEqualTo(DataType.FLOAT);
        assertThat(a.shape()).isEqualTo(t.shape());
        assertThat(a.reshape(-1).getFloat(0)).isEqualTo(v[0]);
      });
    }
  }

  @Test
  void readsAllIntegerAndFloatDtypes() throws IOException {
    String header = "{\"__metadata__\":{\"format\":\"pt\"},"
        + "\"f\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        + "\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[8,16]},"
        + "\"b\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[16,18]},"
        + "\"u\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[18,19]},"
        + "\"s\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[19,20]},"
        + "\"e\":{\"dtype\":\"F16\",\"shape\":[0],\"data_offsets\":[20,20]}}";
    ByteBuffer data = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
    data.putFloat(1.5f).putFloat(-2f).putLong(-7L).put((byte) 1).put((byte) 0).put((byte) 200).put((byte) -3);
    try (SafetensorsFile f = SafetensorsFile.open(file(tmp, "a.safetensors", header, data.array()))) {
      assertThat(f.metadata()).containsEntry("format", "pt");
      assertThat(f.names()).containsExactly("f", "i", "b", "u", "s", "e");
      assertThat(f.readFloats("f")).containsExactly(1.5f, -2f);
      assertThat(f.load("i").getLong(0)).isEqualTo(-7L);
      assertThat(f.load("b").dataType()).isEqualTo(DataType.BOOL);
      assertThat(f.load("u").getInt(0)).isEqualTo(200);
      assertThat(f.load("s").getInt(0)).isEqualTo(-3);
      assertThat(f.info("e").numel()).isZero();
      assertThat(f.parameterCount()).isEqualTo(2);
    }
  }

  @Test
  void writerRoundTripsBytesDtypesAndShapes() throws IOException {
    Path dir = FIXTURES.resolve("tiny-mistral-bf16-sharded");
    Path out = tmp.resolve("merged.safetensors");
    try (WeightSource w = Checkpoints.open(dir)) {
      SafetensorsWriter.write(out, w);
      try (SafetensorsFile f = SafetensorsFile.open(out)) {
        assertThat(f.names()).containsExactlyElementsOf(w.names());
        for (String n : w.names()) {
          assertThat(f.info(n).dtype()).isEqualTo(w.info(n).dtype());
          assertThat(f.info(n).shape()).isEqualTo(w.info(n).shape());
          assertThat(f.bytes(n)).isEqualTo(w.bytes(n));
        }
      }
    }
    assertThat(Files.size(out) % 8).isZero();
    try (var files = Files.list(tmp)) {
      assertThat(files).containsExactly(out); // no temporary file left behind
    }
  }

  @Test
  void chunkedLoadOfALargeTensorEqualsTheDirectOne() throws IOException {
    int n = WeightSource.CHUNK_VALUES + 5;
    ByteBuffer data = ByteBuffer.allocate(n * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      data.putShort((short) (0x3f80 + (i % 97))); // bf16 values around 1.0
    }
    String header = "{\"w\":{\"dtype\":\"BF16\",\"shape\":[" + n + "],\"data_offsets\":[0," + (n * 2) + "]}}";
    try (SafetensorsFile f = SafetensorsFile.open(file(tmp, "big.safetensors", header, data.array()))) {
      INDArray a = f.loadFloat("w");
      float[] direct = f.readFloats("w");
      assertThat(a.getFloat(0)).isEqualTo(direct[0]).isEqualTo(1f);
      assertThat(a.getFloat(n - 1)).isEqualTo(direct[n - 1]);
      assertThat(a.getFloat(WeightSource.CHUNK_VALUES)).isEqualTo(direct[WeightSource.CHUNK_VALUES]);
      assertThat(java.util.Arrays.equals(a.data().asFloat(), direct)).isTrue();
    }
  }

  // ---- bad input: each case fails on open with a message naming the file and tensor ----

  private void assertBad(String name, String header, byte[] data, String... fragments) throws IOException {
    Path p = file(tmp, name, header, data);
    assertThatThrownBy(() -> SafetensorsFile.open(p).close())
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining(p.toString())
        .hasMessageContainingAll(fragments);
  }

  @Test
  void truncatedFile() throws IOException {
    Path p = tmp.resolve("short.safetensors");
    Files.write(p, new byte[] {1, 2, 3});
    assertThatThrownBy(() -> SafetensorsFile.open(p))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining(p.toString())
        .hasMessageContaining("too short");
  }

  @Test
  void headerLengthBeyondTheFile() throws IOException {
    Path p = tmp.resolve("long-header.safetensors");
    ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(5000);
    Files.write(p, b.array());
    assertThatThrownBy(() -> SafetensorsFile.open(p))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining(p.toString())
        .hasMessageContaining("header length 5000 goes beyond the end of the file (20 bytes)");
    ByteBuffer huge = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L);
    Files.write(p, huge.array());
    assertThatThrownBy(() -> SafetensorsFile.open(p)).hasMessageContaining("not plausible");
  }

  @Test
  void malformedHeaderJson() throws IOException {
    assertBad("bad-json.safetensors", "{\"w\": {\"dtype\": ", new byte[0], "header is not valid JSON");
  }

  @Test
  void offsetsOutsideTheData() throws IOException {
    assertBad("outside.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
        floats(1, 2), "tensor 'w'", "outside the data section (8 bytes)");
  }

  @Test
  void overlappingTensors() throws IOException {
    assertBad("overlap.safetensors",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
        floats(1, 2, 3), "tensors 'a' and 'b' overlap");
  }

  @Test
  void gapsAndTrailingBytes() throws IOException {
    assertBad("gap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
        floats(1, 2), "4 unused bytes before tensor 'a'");
    assertBad("trailing.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
        floats(1, 2), "4 bytes after the last tensor");
  }

  @Test
  void unknownDtype() throws IOException {
    assertBad("dtype.safetensors", "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}",
        new byte[1], "tensor 'w'", "unknown dtype 'F8_E4M3'", "BF16");
  }

  @Test
  void duplicateNames() throws IOException {
    assertBad("dup.safetensors",
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
        floats(1, 2), "duplicate tensor name", "'w'");
  }

  @Test
  void shapeByteCountMismatch() throws IOException {
    assertBad("mismatch.safetensors", "{\"w\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,8]}}",
        floats(1, 2), "tensor 'w'", "shape [3] of BF16 needs 6 bytes but data_offsets [0, 8] hold 8");
  }

  @Test
  void missingTensorIsNamed() throws IOException {
    Path p = file(tmp, "ok.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(1));
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      assertThatThrownBy(() -> f.info("nope")).hasMessageContaining("no tensor named 'nope'").hasMessageContaining(p.toString());
    }
  }

  // ---- shard index ----

  private Path shardedFolder(String shardName) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("model"));
    file(dir, "model-00001-of-00001.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(3));
    Files.writeString(dir.resolve("model.safetensors.index.json"),
        "{\"metadata\":{},\"weight_map\":{\"w\":\"" + shardName + "\"}}");
    return dir;
  }

  @Test
  void shardIndexNamingAFileOutsideTheFolderIsRefused() throws IOException {
    file(tmp, "evil.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(3));
    for (String evil : new String[] {"../evil.safetensors", tmp.resolve("evil.safetensors").toString(), "sub/../../evil.safetensors"}) {
      Path dir = shardedFolder(evil);
      assertThatThrownBy(() -> Checkpoints.open(dir))
          .isInstanceOf(ModelFormatException.class)
          .hasMessageContaining("model.safetensors.index.json")
          .hasMessageContaining("outside the model folder")
          .hasMessageContaining("tensor 'w'");
    }
  }

  @Test
  void shardIndexNamingAMissingShardOrTensor() throws IOException {
    Path dir = shardedFolder("model-00002-of-00002.safetensors");
    assertThatThrownBy(() -> Checkpoints.open(dir)).hasMessageContaining("shard 'model-00002-of-00002.safetensors' of tensor 'w' does not exist");
    Files.writeString(dir.resolve("model.safetensors.index.json"),
        "{\"weight_map\":{\"w\":\"model-00001-of-00001.safetensors\",\"v\":\"model-00001-of-00001.safetensors\"}}");
    assertThatThrownBy(() -> Checkpoints.open(dir)).hasMessageContaining("tensor 'v' is mapped to 'model-00001-of-00001.safetensors', which does not contain it");
    file(dir, "model-00001-of-00001.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        + "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", floats(3, 4));
    Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\":{\"w\":\"model-00001-of-00001.safetensors\"}}");
    assertThatThrownBy(() -> Checkpoints.open(dir)).hasMessageContaining("tensor 'x' in shard model-00001-of-00001.safetensors is not in the weight_map");
  }

  @Test
  void folderWithoutWeights() {
    assertThatThrownBy(() -> Checkpoints.open(tmp)).hasMessageContaining("no weights found");
  }

  @Test
  void parsesAValidIndexWithTwoTensors() throws IOException {
    Path dir = shardedFolder("model-00001-of-00001.safetensors");
    try (WeightSource w = Checkpoints.open(dir)) {
      assertThat(w.readFloats("w")).containsExactly(3f);
      assertThat(Map.of("n", w.names())).containsEntry("n", java.util.List.of("w"));
    }
  }
}
