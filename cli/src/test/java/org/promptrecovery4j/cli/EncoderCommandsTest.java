package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.core.TensorJson;
import org.promptrecovery4j.evaluation.SharpenedCosine;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;
import org.promptrecovery4j.models.sentence.SentenceTransformer;
import org.promptrecovery4j.models.sentence.TextEncoder;

/** forward / embed / score through Main.run on the tiny fixtures. */
class EncoderCommandsTest {

  static Path fixture(String name) {
    return Path.of(System.getProperty("pr4j.fixtures", "../fixtures")).resolve(name);
  }

  /** A toy tokenizer for the tiny vocabulary: one id per character, then </s> (1). */
  static final TextEncoder TOY = text -> {
    int[] ids = new int[text.length() + 1];
    for (int i = 0; i < text.length(); i++) {
      ids[i] = 2 + text.charAt(i) % 90;
    }
    ids[text.length()] = 1;
    return ids;
  };

  @AfterEach
  void restoreTokenizer() {
    TextEncoders.factory = TextEncoders.DEFAULT;
  }

  @Test
  @SuppressWarnings("unchecked")
  void forwardWritesDebertaHiddenStatesAndSentenceEmbeddings(@TempDir Path dir) throws Exception {
    for (String name : List.of("deberta-v3-tiny-buckets-small", "sentence-t5-tiny")) {
      Path out = dir.resolve(name + ".json");
      int rc = Main.run("forward", "--model", fixture(name).toString(), "--input",
          fixture(name).resolve("inputs.json").toString(), "--output", out.toString());
      assertThat(rc).isZero();
      Map<String, Object> got = TensorJson.read(out);
      Map<String, Object> want = TensorJson.read(fixture(name).resolve("expected.json"));
      assertThat(got.keySet()).containsAll(want.keySet());
      INDArray mask = (INDArray) TensorJson.read(fixture(name).resolve("inputs.json")).get("attention_mask");
      String key = name.startsWith("deberta") ? "last_hidden_state" : "token_embeddings";
      INDArray e = (INDArray) want.get(key);
      INDArray a = (INDArray) got.get(key);
      for (int b = 0; b < e.size(0); b++) {
        for (int l = 0; l < e.size(1); l++) {
          if (mask.getDouble(b, l) == 1) {
            for (int h = 0; h < e.size(2); h++) {
              assertThat(a.getDouble(b, l, h)).isCloseTo(e.getDouble(b, l, h), within(1e-4 + 1e-4 * Math.abs(e.getDouble(b, l, h))));
            }
          }
        }
      }
      if (name.startsWith("deberta")) {
        assertThat((List<INDArray>) got.get("hidden_states")).hasSize(3);
      }
    }
  }

  @Test
  void forwardRunsBertSentenceTransformersFolders(@TempDir Path dir) throws Exception {
    for (String name : List.of("bert-tiny-mean", "bert-tiny-cls-bf16")) {
      Path out = dir.resolve(name + ".json");
      int rc = Main.run("forward", "--model", fixture(name).toString(), "--input",
          fixture(name).resolve("inputs.json").toString(), "--output", out.toString());
      assertThat(rc).isZero();
      Map<String, Object> got = TensorJson.read(out);
      Map<String, Object> want = TensorJson.read(fixture(name).resolve("expected.json"));
      assertThat(got.keySet()).containsExactly("token_embeddings", "sentence_embedding");
      INDArray e = (INDArray) want.get("sentence_embedding");
      INDArray a = (INDArray) got.get("sentence_embedding");
      assertThat(a.shape()).containsExactly(e.shape());
      for (int b = 0; b < e.size(0); b++) {
        for (int h = 0; h < e.size(1); h++) {
          assertThat(a.getDouble(b, h)).isCloseTo(e.getDouble(b, h), within(1e-4 + 1e-4 * Math.abs(e.getDouble(b, h))));
        }
      }
    }
  }

  @Test
  void forwardAcceptsPlainListsAndRejectsBadInputWithOneLine(@TempDir Path dir) throws Exception {
    Path in = dir.resolve("in.json");
    Files.writeString(in, "{\"input_ids\": [[5, 6, 7], [8, 9, 0]], \"attention_mask\": [[1, 1, 1], [1, 1, 0]], \"x\": 1}");
    Path out = dir.resolve("out.json");
    assertThat(Main.run("forward", "--model", fixture("sentence-t5-tiny").toString(), "--input", in.toString(),
        "--output", out.toString())).isZero();
    assertThat(((INDArray) TensorJson.read(out).get("sentence_embedding")).shape()).containsExactly(2L, 24L);

    Files.writeString(in, "{\"input_ids\": [[5, 6, 7], [8, 9]]}");
    assertThat(runCapturingErr("forward", "--model", fixture("sentence-t5-tiny").toString(), "--input", in.toString(),
        "--output", out.toString())).contains("different lengths");
    Files.writeString(in, "{\"input_ids\": [[5, 6, 7000]]}");
    assertThat(runCapturingErr("forward", "--model", fixture("deberta-v3-tiny-bf16").toString(), "--input", in.toString(),
        "--output", out.toString())).contains("outside the vocabulary");
  }

  static String runCapturingErr(String... args) {
    PrintStream old = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      assertThat(Main.run(args)).isEqualTo(1);
    } finally {
      System.setErr(old);
    }
    String err = buf.toString(StandardCharsets.UTF_8);
    assertThat(err).doesNotContain("\tat ");
    return err;
  }

  @Test
  void embedWritesNpyRowsInInputOrder(@TempDir Path dir) throws Exception {
    TextEncoders.factory = (model, max, kaggle) -> TOY;
    List<String> texts = List.of("a much longer text than the others here", "hi", "medium sized text", "hi");
    Path in = dir.resolve("t.txt");
    Files.write(in, texts);
    Path out = dir.resolve("e.npy");
    assertThat(Main.run("embed", "--model", fixture("sentence-t5-tiny").toString(), "--input", in.toString(),
        "--output", out.toString(), "--batch-size", "3")).isZero();
    float[][] npy = readNpy(out, 4, 24);
    SentenceEmbedder one = new SentenceEmbedder(SentenceTransformer.load(fixture("sentence-t5-tiny")), TOY, 1);
    float[][] single = one.embed(texts);
    for (int i = 0; i < texts.size(); i++) {
      assertThat(SharpenedCosine.cosine(npy[i], single[i])).isCloseTo(1.0, within(1e-5));
    }
    // pre-tokenized jsonl needs no tokenizer
    TextEncoders.factory = TextEncoders.DEFAULT;
    Path jsonl = dir.resolve("ids.jsonl");
    Files.writeString(jsonl, "{\"input_ids\": " + java.util.Arrays.toString(TOY.encode("hi")) + "}\n");
    Path out2 = dir.resolve("e.jsonl");
    assertThat(Main.run("embed", "--model", fixture("sentence-t5-tiny").toString(), "--input", jsonl.toString(),
        "--output", out2.toString())).isZero();
    assertThat(Files.readAllLines(out2)).hasSize(1).allMatch(l -> l.startsWith("{\"embedding\":["));
    assertThat(runCapturingErr("embed", "--model", fixture("sentence-t5-tiny").toString(), "--input", in.toString(),
        "--output", out.toString())).contains("text input needs the model's tokenizer").contains("input_ids");
  }

  @Test
  void scoreJoinsOnIdAndWritesPerRowScores(@TempDir Path dir) throws Exception {
    TextEncoders.factory = (model, max, kaggle) -> TOY;
    Path truth = dir.resolve("truth.csv");
    Path sub = dir.resolve("sub.csv");
    Csv.write(truth, List.of("id", "original_text", "rewrite_prompt"),
        List.of(List.of("1", "x", "Rewrite this as a poem"), List.of("2", "y", "Make it formal, please")));
    Csv.write(sub, List.of("id", "rewrite_prompt"), List.of(List.of("2", "Make it formal, please"), List.of("1", "Rewrite as a song")));
    Path perRow = dir.resolve("rows.csv");
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      assertThat(Main.run("score", "--model", fixture("sentence-t5-tiny").toString(), "--truth", truth.toString(),
          "--predictions", sub.toString(), "--per-row", perRow.toString())).isZero();
    } finally {
      System.setOut(old);
    }
    Csv.Table rows = Csv.read(perRow);
    assertThat(rows.header()).containsExactly("id", "score", "predicted", "truth");
    assertThat(rows.rows().get(1).get(0)).isEqualTo("2");
    assertThat(Double.parseDouble(rows.rows().get(1).get(1))).isCloseTo(1.0, within(1e-5));
    double first = Double.parseDouble(rows.rows().get(0).get(1));
    assertThat(Double.parseDouble(buf.toString(StandardCharsets.UTF_8).trim())).isCloseTo((first + 1.0) / 2, within(1e-5));

    Csv.write(sub, List.of("id", "rewrite_prompt"), List.of(List.of("1", ""), List.of("3", "x")));
    assertThat(runCapturingErr("score", "--model", fixture("sentence-t5-tiny").toString(), "--truth", truth.toString(),
        "--predictions", sub.toString())).contains("blank predictions (1)").contains("ids not in the truth (3)");
  }

  static float[][] readNpy(Path f, int rows, int cols) throws Exception {
    byte[] b = Files.readAllBytes(f);
    int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
    String header = new String(b, 10, headerLen, StandardCharsets.US_ASCII);
    assertThat(header).contains("'shape': (" + rows + ", " + cols + ")");
    ByteBuffer buf = ByteBuffer.wrap(b, 10 + headerLen, rows * cols * 4).order(ByteOrder.LITTLE_ENDIAN);
    float[][] out = new float[rows][cols];
    for (float[] r : out) {
      buf.asFloatBuffer().get(r);
      buf.position(buf.position() + cols * 4);
    }
    return out;
  }
}
