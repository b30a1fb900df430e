package org.promptrecovery4j.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ModelFolderWriter} on the sharded bf16 fixture: one model.safetensors with every tensor in the base's order,
 * a replaced one in float32 (mixed dtypes), one in bf16 from {@code encode}, the rest byte for byte; the config copied,
 * the shards and their index not; replacements that do not fit are refused by name.
 */
class ModelFolderWriterTest {

  static final Path BASE = SafetensorsFileTest.FIXTURES.resolve("tiny-mistral-bf16-sharded");

  static ByteBuffer floats(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.flip();
  }

  @Test
  void writesEveryBaseTensorWithTheReplacedOnesInTheirNewDtype(@TempDir Path tmp) throws Exception {
    try (WeightSource base = Checkpoints.open(BASE)) {
      List<String> names = base.names();
      String a = names.get(1);
      String b = names.get(2);
      float[] av = base.readFloats(a);
      float[] bv = base.readFloats(b);
      for (int i = 0; i < av.length; i++) {
        av[i] += 1e-4f * (i % 7); // below bf16's resolution: only float32 keeps it
      }
      for (int i = 0; i < bv.length; i++) {
        bv[i] *= 2;
      }
      ModelFolderWriter.write(BASE, base, Map.of(
          a, new ModelFolderWriter.Tensor(DType.F32, base.info(a).shape(), floats(av)),
          b, new ModelFolderWriter.Tensor(DType.BF16, base.info(b).shape(), ModelFolderWriter.encode(DType.BF16, bv, b))),
          tmp);
      try (Stream<Path> files = Files.list(tmp)) {
        assertThat(files.map(p -> p.getFileName().toString()).sorted())
            .containsExactly("config.json", "expected.json", "model.safetensors");
      }
      assertThat(Files.readAllBytes(tmp.resolve("config.json"))).isEqualTo(Files.readAllBytes(BASE.resolve("config.json")));
      try (WeightSource out = Checkpoints.open(tmp)) {
        assertThat(out.names()).containsExactlyElementsOf(names);
        assertThat(out.info(a).dtype()).isEqualTo(DType.F32);
        assertThat(out.readFloats(a)).containsExactly(av);
        assertThat(out.info(b).dtype()).isEqualTo(DType.BF16);
        assertThat(out.readFloats(b)).containsExactly(bv); // doubling is exact in bf16
        for (String n : names) {
          if (!n.equals(a) && !n.equals(b)) {
            assertThat(out.info(n).dtype()).isEqualTo(DType.BF16);
            assertThat(out.bytes(n)).as(n).isEqualTo(base.bytes(n));
          }
        }
      }
    }
  }

  @Test
  void replacementsThatDoNotFitAreRefusedByName(@TempDir Path tmp) throws Exception {
    try (WeightSource base = Checkpoints.open(BASE)) {
      String n = base.names().get(0);
      long[] shape = base.info(n).shape();
      int count = (int) base.info(n).numel();
      assertThatThrownBy(() -> ModelFolderWriter.write(BASE, base,
          Map.of("no.such.weight", new ModelFolderWriter.Tensor(DType.F32, shape, floats(new float[count]))), tmp))
          .isInstanceOf(ModelFormatException.class).hasMessageContaining("no tensor 'no.such.weight' to replace");
      assertThatThrownBy(() -> ModelFolderWriter.write(BASE, base,
          Map.of(n, new ModelFolderWriter.Tensor(DType.F32, new long[] {count}, floats(new float[count]))), tmp))
          .isInstanceOf(ModelFormatException.class).hasMessageContaining("tensor '" + n + "' is ");
      assertThatThrownBy(() -> ModelFolderWriter.write(BASE, base,
          Map.of(n, new ModelFolderWriter.Tensor(DType.F32, shape, floats(new float[count - 1]))), tmp))
          .isInstanceOf(ModelFormatException.class).hasMessageContaining("the replacement of '" + n + "' holds");
      try (Stream<Path> files = Files.list(tmp)) {
        assertThat(files).isEmpty();
      }
    }
  }
}
