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
}
