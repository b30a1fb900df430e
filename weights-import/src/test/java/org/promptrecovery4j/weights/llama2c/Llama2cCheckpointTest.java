package org.promptrecovery4j.weights.llama2c;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.weights.ModelFormatException;

class Llama2cCheckpointTest {

  static Path tiny() {
    return Path.of(System.getProperty("pr4j.fixtures", "../fixtures")).resolve("tiny-llama2c-v1/model.bin");
  }

  @Test
  void readsVersion1AsHfLlamaTensors() throws Exception {
    try (Llama2cCheckpoint c = Llama2cCheckpoint.open(tiny())) {
      assertThat(c.config().modelType()).isEqualTo("llama");
      assertThat(c.config().hiddenSize()).isEqualTo(16);
      assertThat(c.config().numKeyValueHeads()).isEqualTo(2);
      assertThat(c.config().tieWordEmbeddings()).isTrue();
      assertThat(c.contains("lm_head.weight")).isFalse();
      assertThat(c.info("model.layers.1.self_attn.k_proj.weight").shape()).containsExactly(8L, 16L);
      assertThat(c.info("model.layers.0.mlp.down_proj.weight").shape()).containsExactly(16L, 24L);
      assertThat(c.names()).hasSize(1 + 1 + 2 * 9);
    }
  }

  @Test
  void truncatedOrForeignFilesAreClearErrors(@TempDir Path tmp) throws Exception {
    byte[] all = Files.readAllBytes(tiny());
    Path cut = tmp.resolve("cut.bin");
    Files.write(cut, Arrays.copyOf(all, all.length - 100));
    assertThatThrownBy(() -> Llama2cCheckpoint.open(cut)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("ends inside the tensors");
    Path other = tmp.resolve("x.bin");
    Files.write(other, new byte[] {1, 2, 3});
    assertThat(Llama2cCheckpoint.looksLike(other)).isFalse();
    assertThat(Llama2cCheckpoint.looksLike(tmp)).isFalse();
  }

  /** A legacy header (seven int32) followed by {@code floats} zero floats. */
  private static Path legacy(Path dir, String name, int[] header, long floats) throws Exception {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(28 + (int) floats * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int v : header) {
      b.putInt(v);
    }
    return Files.write(dir.resolve(name), b.array());
  }

  @Test
  void absurdHeadersAreNamedErrorsBeforeAnythingIsRead(@TempDir Path tmp) throws Exception {
    Object[][] cases = {
        {new int[] {1_000_000_000, 32, 1, 4, 4, 32, 8}, "dim.bin", "header dim 1000000000"},
        {new int[] {-16, 32, 1, 4, 4, 32, 8}, "negative.bin", "header dim -16"},
        {new int[] {16, 32, 1, 4, 4, 0, 8}, "vocab0.bin", "vocab_size 0"},
        {new int[] {16, 32, 1, 4, 4, Integer.MIN_VALUE, 8}, "vocabmin.bin", "vocab_size -2147483648"},
        {new int[] {16, 32, 1, 3, 3, 32, 8}, "heads.bin", "n_heads must divide dim"},
        {new int[] {16, 32, 1, 4, 3, 32, 8}, "kv.bin", "n_kv_heads must divide n_heads"},
        {new int[] {16, 32, 1_000_000, 4, 4, 32, 8}, "layers.bin", "n_layers 1000000"},
        {new int[] {16, 32, 1, 4, 4, 32, 1_000_000_000}, "seq.bin", "seq_len 1000000000"},
    };
    for (Object[] c : cases) {
      Path p = legacy(tmp, (String) c[1], (int[]) c[0], 16);
      assertThatThrownBy(() -> Llama2cCheckpoint.open(p)).as((String) c[1]).isInstanceOf(ModelFormatException.class)
          .hasMessageContaining(p + ": not a llama2.c checkpoint").hasMessageContaining((String) c[2]);
      assertThat(Llama2cCheckpoint.looksLike(p)).isFalse();
    }
  }

  @Test
  void fileSizeIsCheckedAgainstTheHeaderBeforeReading(@TempDir Path tmp) throws Exception {
    // the largest sizes the limits allow: the header implies ~ 2^48 bytes, computed without overflow
    Path big = legacy(tmp, "big.bin", new int[] {65536, 262144, 1024, 1024, 1024, 2097152, 16777216}, 16);
    assertThatThrownBy(() -> Llama2cCheckpoint.open(big)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining(big + ": llama2.c checkpoint has 92 bytes, but its header")
        .hasMessageContaining("implies 282029564624924 bytes: the file is truncated");
    Path tooShort = Files.write(tmp.resolve("short.bin"), new byte[27]);
    assertThatThrownBy(() -> Llama2cCheckpoint.open(tooShort)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("short.bin: 27 bytes, too short to be a llama2.c checkpoint");
    byte[] v1 = java.util.Arrays.copyOf(Files.readAllBytes(tiny()), 100);
    Path shortV1 = Files.write(tmp.resolve("short-v1.bin"), v1);
    assertThatThrownBy(() -> Llama2cCheckpoint.open(shortV1)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("short-v1.bin: 100 bytes, too short for a llama2.c version 1 checkpoint");
    byte[] longer = java.util.Arrays.copyOf(Files.readAllBytes(tiny()), (int) Files.size(tiny()) + 4);
    Path trailing = Files.write(tmp.resolve("trailing.bin"), longer);
    assertThatThrownBy(() -> Llama2cCheckpoint.open(trailing)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("trailing.bin: llama2.c checkpoint has 18500 bytes, but its header");
  }
}
