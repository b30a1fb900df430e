package org.promptrecovery4j.models;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.weights.ModelFormatException;

/**
 * A config.json whose sizes disagree with the checkpoint's tensors (issue 8) is a named error naming the
 * tensor, raised before the graph is built, not an ND4J shape error.
 */
class ConfigShapeMismatchTest {

  @TempDir Path tmp;

  /** A copy of a fixture folder (its top-level files) with one config value replaced. */
  private Path withConfig(String fixture, String from, String to) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve(fixture));
    try (var files = Files.list(Fixtures.dir(fixture))) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(f) && !f.getFileName().toString().equals("expected.json")) {
          Files.copy(f, dir.resolve(f.getFileName()));
        }
      }
    }
    String config = Files.readString(dir.resolve("config.json"));
    if (!config.contains(from)) {
      throw new AssertionError(fixture + "/config.json has no " + from);
    }
    Files.writeString(dir.resolve("config.json"), config.replace(from, to));
    return dir;
  }

  @Test
  void mistralHiddenSizeDisagreeingWithTheEmbedding() throws IOException {
    Path dir = withConfig("tiny-mistral-gqa2", "\"hidden_size\": 32", "\"hidden_size\": 64");
    assertThatThrownBy(() -> Models.load(dir)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("model.safetensors: tensor 'model.embed_tokens.weight' is [96, 32], but config.json"
            + " (hidden_size 64) implies [*, 64]");
  }

  @Test
  void mistralHeadCountDisagreeingWithTheProjections() throws IOException {
    Path dir = withConfig("tiny-mistral-gqa2", "\"num_key_value_heads\": 2", "\"num_key_value_heads\": 4");
    assertThatThrownBy(() -> Models.load(dir)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("tensor 'model.layers.0.self_attn.k_proj.weight' is [16, 32], but config.json")
        .hasMessageContaining("num_key_value_heads 4");
  }

  @Test
  void debertaHiddenSizeDisagreeingWithTheTensors() throws IOException {
    Path dir = withConfig("deberta-v2-tiny-classic", "\"embedding_size\": 24", "\"embedding_size\": 40");
    assertThatThrownBy(() -> Models.load(dir)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("word_embeddings.weight' is [")
        .hasMessageContaining("but config.json (embedding_size 40) implies [*, 40]");
  }

  @Test
  void t5ModelSizeDisagreeingWithTheSharedTable() throws IOException {
    Path dir = withConfig("sentence-t5-tiny", "\"d_model\": 32", "\"d_model\": 48");
    Files.delete(dir.resolve("modules.json")); // the bare T5 encoder
    assertThatThrownBy(() -> Models.load(dir)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("' is [")
        .hasMessageContaining("but config.json (d_model 48) implies [*, 48]");
  }
}
