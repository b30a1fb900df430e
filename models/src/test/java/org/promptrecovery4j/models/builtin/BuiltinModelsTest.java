package org.promptrecovery4j.models.builtin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.models.ForwardModel;
import org.promptrecovery4j.models.Models;
import org.promptrecovery4j.models.bert.BertModel;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;
import org.promptrecovery4j.models.sentence.SentenceTransformer;

/** The built-in all-MiniLM-L6-v2: names, its cached folder, and what sentence-transformers gives. */
class BuiltinModelsTest {

  @Test
  void namesMatchInAnyCase() throws IOException {
    assertThat(BuiltinModels.canonicalName("ALL-MINILM-L6-V2")).isEqualTo("all-MiniLM-L6-v2");
    assertThat(BuiltinModels.canonicalName(" all-minilm-l6-v2 ")).isEqualTo("all-MiniLM-L6-v2");
    assertThat(BuiltinModels.isBuiltin("all-MiniLM-L12-v2")).isFalse();
    assertThat(BuiltinModels.resolve("some/folder")).isEqualTo(Path.of("some/folder"));
    assertThat(BuiltinModels.resolve("All-MiniLM-L6-v2")).isEqualTo(BuiltinModels.folder("all-MiniLM-L6-v2"));
    assertThatThrownBy(() -> BuiltinModels.folder("bert-base")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'bert-base' is not a built-in model");
  }

  @Test
  void theFolderIsAnOrdinarySentenceTransformersFolderWrittenOnce() throws Exception {
    Path dir = BuiltinModels.folder(BuiltinModels.ALL_MINILM_L6_V2);
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("config.json", "modules.json", "1_Pooling", "sentence_bert_config.json",
              "tokenizer.json", "model.onnx", "README.md");
    }
    FileTime written = Files.getLastModifiedTime(dir.resolve("model.onnx"));
    assertThat(BuiltinModels.folder("all-minilm-l6-v2")).isEqualTo(dir);
    assertThat(Files.getLastModifiedTime(dir.resolve("model.onnx"))).isEqualTo(written);
    try (ForwardModel m = Models.load(dir)) {
      SentenceTransformer st = (SentenceTransformer) m;
      assertThat(st.modules()).containsExactly("Transformer", "Pooling", "Normalize");
      assertThat(st.encoder()).isInstanceOf(BertModel.class);
      assertThat(((BertModel) st.encoder()).config().numHiddenLayers()).isEqualTo(6);
      assertThat(st.maxSeqLength()).isEqualTo(256);
      assertThat(st.isSentenceT5()).isFalse();
    }
  }

  /** The figure sentence-transformers gives for this pair with all-MiniLM-L6-v2. */
  @Test
  void semanticSanityOnTheRealModel() {
    SentenceEmbedder e = BuiltinModels.allMiniLmL6V2();
    float[][] v = e.embed(List.of("A man is eating food.", "A man is eating a piece of bread.",
        "The girl is carrying a baby.", "A man is riding a horse."));
    assertThat(v[0]).hasSize(384);
    double cos = dot(v[0], v[1]);
    System.out.printf("cos(eating food, eating bread) = %.4f%n", cos);
    assertThat(cos).isBetween(0.753, 0.757);
    assertThat(dot(v[0], v[0])).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
    assertThat(dot(v[0], v[2])).isLessThan(0.2);
    assertThat(dot(v[0], v[3])).isLessThan(cos);
  }

  @Test
  void aFolderChangedByHandIsNamedNotUsed(@TempDir Path cache) throws Exception {
    String before = System.getProperty(BuiltinModels.CACHE_PROPERTY);
    System.setProperty(BuiltinModels.CACHE_PROPERTY, cache.toString());
    try {
      Path dir = BuiltinModels.folder(BuiltinModels.ALL_MINILM_L6_V2);
      assertThat(dir).startsWith(cache);
      try (Stream<Path> left = Files.list(dir.getParent())) {
        assertThat(left).containsExactly(dir); // no staging folder left behind
      }
      Files.write(dir.resolve("tokenizer.json"), new byte[] {'{', '}'});
      assertThatThrownBy(() -> BuiltinModels.folder(BuiltinModels.ALL_MINILM_L6_V2)).isInstanceOf(IOException.class)
          .hasMessageContaining("tokenizer.json is missing or has the wrong size")
          .hasMessageContaining("delete the folder");
    } finally {
      if (before == null) {
        System.clearProperty(BuiltinModels.CACHE_PROPERTY);
      } else {
        System.setProperty(BuiltinModels.CACHE_PROPERTY, before);
      }
    }
  }

  /**
   * The Xenova / transformers.js layout (config.json, tokenizer.json, onnx/model.onnx, no modules.json) loads as a
   * plain HF BERT folder: mean pooling without normalisation, what sentence-transformers gives it.
   */
  @Test
  void anOnnxExportFolderWithoutModulesJsonLoads(@TempDir Path xenova) throws Exception {
    Path builtin = BuiltinModels.folder(BuiltinModels.ALL_MINILM_L6_V2);
    Files.copy(builtin.resolve("config.json"), xenova.resolve("config.json"));
    Files.copy(builtin.resolve("tokenizer.json"), xenova.resolve("tokenizer.json"));
    Files.createDirectories(xenova.resolve("onnx"));
    Files.createSymbolicLink(xenova.resolve("onnx/model.onnx"), builtin.resolve("model.onnx"));
    SentenceEmbedder plain = SentenceEmbedder.load(xenova, 8);
    assertThat(plain.model().modules()).containsExactly("Transformer", "Pooling");
    List<String> texts = List.of("A man is eating food.", "Rewrite this email as a pirate shanty.");
    float[][] raw = plain.embed(texts);
    float[][] normalised = BuiltinModels.allMiniLmL6V2().embed(texts);
    for (int i = 0; i < texts.size(); i++) {
      double norm = Math.sqrt(dot(raw[i], raw[i]));
      assertThat(norm).isGreaterThan(1.5); // not normalised
      for (int k = 0; k < raw[i].length; k++) {
        assertThat(raw[i][k] / norm).isCloseTo(normalised[i][k], org.assertj.core.data.Offset.offset(1e-5));
      }
    }
  }

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
