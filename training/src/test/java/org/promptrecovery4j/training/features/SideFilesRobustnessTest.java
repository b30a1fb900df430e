package org.promptrecovery4j.training.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The side files of an interrupted run are outside data when a run resumes: damaged ones (random bytes, cut or
 * mutated records, mangled JSON) end in a named error or a clean resume, never anything else.
 */
class SideFilesRobustnessTest {

  private static final int WIDTH = 3;
  private static final int[] ORDER = {4, 0, 2, 5, 1, 3, 6};

  @Test
  void damagedPartialFilesAreRefusedOrResumedFromWholeBatches(@TempDir Path dir) throws IOException {
    Random rnd = new Random(10);
    long record = PartialFeatures.recordBytes(WIDTH);
    for (int t = 0; t < 300; t++) {
      Path f = dir.resolve("p" + t + ".partial");
      int whole = rnd.nextInt(ORDER.length + 2);
      ByteBuffer b = ByteBuffer.allocate((int) (whole * record + rnd.nextInt((int) record))).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < whole; i++) {
        b.putInt((int) (i * record), i < ORDER.length ? ORDER[i] : i);
      }
      if (b.capacity() > 0 && rnd.nextBoolean()) { // damage: random bytes somewhere
        for (int k = 0; k < 1 + rnd.nextInt(4); k++) {
          b.put(rnd.nextInt(b.capacity()), (byte) rnd.nextInt(256));
        }
      }
      Files.write(f, b.array());
      int batch = 1 + rnd.nextInt(3);
      try (PartialFeatures p = PartialFeatures.resume(f, WIDTH, ORDER, batch)) {
        assertThat(p.records()).isBetween(0L, (long) ORDER.length);
        assertThat(p.records() == ORDER.length || p.records() % batch == 0).isTrue();
        assertThat(Files.size(f)).isEqualTo(p.records() * record);
      } catch (IllegalArgumentException e) {
        assertThat(e.getMessage()).startsWith(f.toString()).contains("does not belong to this run");
      }
    }
  }

  @Test
  void damagedStateFilesAreRefusedWithANamedError(@TempDir Path dir) throws IOException {
    Map<String, Object> now = Map.of("format", "pr4j-features-1", "max_length", 384, "batch_size", 8);
    String good = "{\"format\": \"pr4j-features-1\", \"max_length\": 384, \"batch_size\": 8}";
    Random rnd = new Random(11);
    Path f = dir.resolve("feats.npy.partial.json");
    for (int t = 0; t < 300; t++) {
      byte[] bytes = good.getBytes(StandardCharsets.UTF_8);
      for (int k = 0; k < 1 + rnd.nextInt(3); k++) {
        bytes[rnd.nextInt(bytes.length)] = (byte) rnd.nextInt(256);
      }
      if (rnd.nextInt(10) == 0) {
        bytes = ("[".repeat(5000) + "]".repeat(5000)).getBytes(StandardCharsets.UTF_8);
      }
      Files.write(f, bytes);
      assertThatCode(() -> {
        try {
          ResumeState.requireSame(f, ResumeState.read(f), new java.util.LinkedHashMap<>(now));
        } catch (IllegalArgumentException e) {
          assertThat(e.getMessage()).startsWith(f.toString());
        }
      }).as("state %s", new String(bytes, StandardCharsets.UTF_8)).doesNotThrowAnyException();
    }
  }
}
