package org.promptrecovery4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyReaderTest {

  static final Path CORPUS = Path.of("src/test/resources/org/promptrecovery4j/core/fuzz/NpyFuzzTestInputs/npy");

  @Test
  void readsWhatNpyWritesAndWhatNumpySaves(@TempDir Path tmp) throws Exception {
    float[][] m = {{1.5f, -2f, Float.MIN_VALUE}, {3e38f, 0f, -0f}};
    Path f = tmp.resolve("m.npy");
    Npy.writeFloat32(f, m);
    assertThat(NpyReader.readFloat32(f)).isDeepEqualTo(m);
    // numpy.save of float32 [2, 3] and float64 [3, 2] (rounded to float32)
    assertThat(NpyReader.readFloat32(CORPUS.resolve("valid_f4"))).isDeepEqualTo(new float[][] {{0, 1, 2}, {3, 4, 5}});
    assertThat(NpyReader.readFloat32(CORPUS.resolve("valid_f8"))).isDeepEqualTo(new float[][] {{0, 1}, {2, 3}, {4, 5}});
  }

  @Test
  void badFilesAreNamed() {
    assertThatThrownBy(() -> NpyReader.readFloat32(CORPUS.resolve("one_d"))).hasMessageContaining("one_d: expected a 2-D array");
    assertThatThrownBy(() -> NpyReader.readFloat32(CORPUS.resolve("int64"))).hasMessageContaining("int64: dtype '<i8' is not supported");
    assertThatThrownBy(() -> NpyReader.readFloat32(CORPUS.resolve("fortran"))).hasMessageContaining("Fortran-order");
    assertThatThrownBy(() -> NpyReader.readFloat32(CORPUS.resolve("truncated"))).hasMessageContaining("truncated: shape (2, 3)");
    assertThatThrownBy(() -> NpyReader.readFloat32(CORPUS.resolve("claims_more_rows"))).hasMessageContaining("(9999999, 3)");
    assertThatThrownBy(() -> NpyReader.readFloat32(CORPUS.resolve("empty"))).hasMessageContaining("empty: not a .npy file");
    assertThatThrownBy(() -> NpyReader.readFloat32(CORPUS.resolve("zero_columns"))).hasMessageContaining("has no columns");
    assertThat(Files.exists(CORPUS)).isTrue();
  }
}
