package org.promptrecovery4j.weights.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.promptrecovery4j.testsupport.Fuzzing;
import org.promptrecovery4j.weights.Checkpoints;
import org.promptrecovery4j.weights.WeightSource;

/**
 * A sharded checkpoint ({@code ShardedCheckpoint}): the input is the index ({@code model.safetensors.index.json}),
 * in a folder that also holds fixed valid shards (the four safetensors shards of tiny-mistral-bf16-sharded and
 * the two pytorch_model shards of torch-bin/sharded); the shard files themselves are fuzzed by
 * {@link SafetensorsFuzzTest} and {@link TorchCheckpointFuzzTest}. Errors must name the folder (the index or a
 * shard in it).
 */
class ShardedCheckpointFuzzTest {

  static final String[] SHARDS = {
    "model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors", "model-00003-of-00004.safetensors",
    "model-00004-of-00004.safetensors", "pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin",
  };

  private static Path folder;

  private static synchronized Path folder() throws IOException {
    if (folder == null) {
      folder = Fuzzing.folder("sharded");
      for (String s : SHARDS) {
        try (InputStream in = ShardedCheckpointFuzzTest.class.getResourceAsStream("shards/" + s)) {
          Files.copy(in, folder.resolve(s));
        }
      }
    }
    return folder;
  }

  @FuzzTest
  void index(byte[] data) throws Exception {
    Path dir = folder();
    Path index = dir.resolve("model.safetensors.index.json");
    Files.write(index, data);
    Fuzzing.loadedOrNamedError(dir, () -> {
      try (WeightSource w = Checkpoints.open(index)) {
        WeightsFuzz.readAll(w);
      }
    });
  }
}
