package org.promptrecovery4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class TensorJsonAndNpyTest {

  @TempDir Path tmp;

  @Test
  void floatsRoundTripFloat32Exactly() throws IOException {
    float[] hard = {0.1f, 1f / 3, Float.MIN_VALUE, Float.MAX_VALUE, -0f, 1.0000001f, 16777217f, 3.4e-39f,
        Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 123456.789f};
    INDArray a = Nd4j.create(hard, new long[] {3, 4}, 'c');
    INDArray ids = Nd4j.createFromArray(new long[][] {{1, 2, 3}, {4, 5, 9_000_000_000L}});
    Map<String, Object> tensors = new LinkedHashMap<>();
    tensors.put("x", a);
    tensors.put("input_ids", ids);
    tensors.put("hidden_states", List.of(a, a.mul(2)));
    tensors.put("scalar", Nd4j.scalar(2.5f));
    Path p = tmp.resolve("t.json");
    TensorJson.write(p, tensors);
    String text = Files.readString(p);
    assertThat(text).startsWith("{\"x\":{\"shape\":[3,4],\"dtype\":\"float32\",\"data\":[[0.1,0.33333334,1.4E-45,");
    assertThat(text).contains("\"input_ids\":{\"shape\":[2,3],\"dtype\":\"int64\",\"data\":[[1,2,3],[4,5,9000000000]]}");
    Map<String, Object> back = TensorJson.read(p);
    assertThat(back.keySet()).containsExactly("x", "input_ids", "hidden_states", "scalar");
    float[] got = ((INDArray) back.get("x")).data().asFloat();
    for (int i = 0; i < hard.length; i++) {
      assertThat(Float.floatToIntBits(got[i])).as("value %d", i).isEqualTo(Float.floatToIntBits(hard[i]));
    }
    assertThat(((INDArray) back.get("input_ids")).getLong(1, 2)).isEqualTo(9_000_000_000L);
    @SuppressWarnings("unchecked")
    List<INDArray> hs = (List<INDArray>) back.get("hidden_states");
    assertThat(hs).hasSize(2);
    assertThat(hs.get(1).getFloat(0, 0)).isEqualTo(0.2f);
    assertThat(((INDArray) back.get("scalar")).getFloat(0)).isEqualTo(2.5f);
  }

  @Test
  void viewsAreWrittenInLogicalOrder() throws IOException {
    INDArray base = Nd4j.arange(6).castTo(DataType.FLOAT).reshape(2, 3);
    Path p = tmp.resolve("t.json");
    TensorJson.write(p, Map.of("t", base.transpose()));
    assertThat(Files.readString(p)).contains("\"shape\":[3,2]").contains("[[0.0,3.0],[1.0,4.0],[2.0,5.0]]");
  }

  @Test
  void badTensorJsonNamesTheTensor() throws IOException {
    Path p = tmp.resolve("bad.json");
    Files.writeString(p, "{\"logits\": {\"shape\": [2, 2], \"data\": [1, 2, 3]}}");
    assertThatThrownBy(() -> TensorJson.read(p)).hasMessageContaining("tensor 'logits' has 3 values for shape [2, 2]");
    Files.writeString(p, "{\"a\": {\"shape\": [1], \"dtype\": \"complex64\", \"data\": [1]}}");
    assertThatThrownBy(() -> TensorJson.read(p)).hasMessageContaining("unknown dtype 'complex64'");
  }

  @Test
  void npyHeaderIsNumpyFormat1() throws IOException {
    Path p = tmp.resolve("e.npy");
    Npy.writeFloat32(p, new float[][] {{1f, 2f, 3f}, {4f, 5f, 6.5f}});
    byte[] b = Files.readAllBytes(p);
    assertThat(new String(b, 1, 5, StandardCharsets.US_ASCII)).isEqualTo("NUMPY");
    assertThat(b[0] & 0xff).isEqualTo(0x93);
    int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
    assertThat((10 + headerLen) % 64).isZero();
    String header = new String(b, 10, headerLen, StandardCharsets.US_ASCII);
    assertThat(header).startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }").endsWith("\n");
    ByteBuffer data = ByteBuffer.wrap(b, 10 + headerLen, 24).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(data.getFloat(10 + headerLen + 20)).isEqualTo(6.5f);
    assertThat(b.length).isEqualTo(10 + headerLen + 24);
    assertThatThrownBy(() -> Npy.writeFloat32(tmp.resolve("r.npy"), new float[][] {{1f}, {1f, 2f}}))
        .hasMessageContaining("row 1 has 2 values, row 0 has 1");
    assertThat(tmp.resolve("r.npy")).doesNotExist();
  }
}
