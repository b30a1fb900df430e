package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.TensorJson;

/** {@code --model all-MiniLM-L6-v2} (any case, no folder) in embed, score, forward and inspect. */
class BuiltinModelCommandsTest {

  record Run(int rc, String out, String err) {}

  static Run run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int rc = Main.run(args);
      return new Run(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @Test
  void embedWritesNormalisedMiniLmEmbeddings(@TempDir Path dir) throws Exception {
    Path in = dir.resolve("texts.jsonl");
    Files.writeString(in, "{\"text\": \"A man is eating food.\"}\n{\"text\": \"A man is eating a piece of bread.\"}\n"
        + "{\"text\": \"東京は日本の首都です 🦙\"}\n");
    Path npy = dir.resolve("emb.npy");
    Run r = run("embed", "--model", "all-MiniLM-L6-v2", "--input", in.toString(), "--output", npy.toString());
    assertThat(r.rc()).as(r.err()).isZero();
    float[][] e = readNpy(npy, 3, 384);
    assertThat(dot(e[0], e[1])).isBetween(0.753, 0.757);
    assertThat(dot(e[2], e[2])).isBetween(0.99999, 1.00001);

    Path again = dir.resolve("again.npy"); // any case, same result
    assertThat(run("embed", "--model", "ALL-MINILM-L6-V2", "--input", in.toString(), "--output", again.toString()).rc()).isZero();
    assertThat(Files.readAllBytes(again)).isEqualTo(Files.readAllBytes(npy));

    Path compat = dir.resolve("compat.npy"); // sentence-t5's TensorFlow quirks do not apply to MiniLM
    Run r2 = run("embed", "--model", "all-MiniLM-L6-v2", "--kaggle-compat", "--input", in.toString(), "--output", compat.toString());
    assertThat(r2.rc()).isEqualTo(1);
    assertThat(r2.err()).contains("--kaggle-compat reproduces the competition's TensorFlow sentence-t5");
    assertThat(compat).doesNotExist();
  }

  @Test
  void scoreSaysItIsAProxy(@TempDir Path dir) throws Exception {
    Path truth = dir.resolve("truth.csv");
    Path pred = dir.resolve("pred.csv");
    Files.writeString(truth, "id,rewrite_prompt\na,Rewrite this as a poem.\nb,Make it formal.\n");
    Files.writeString(pred, "id,rewrite_prompt\na,Rewrite this as a poem.\nb,Turn this into a pirate shanty.\n");
    Run r = run("score", "--model", "all-minilm-l6-v2", "--truth", truth.toString(), "--predictions", pred.toString());
    assertThat(r.rc()).as(r.err()).isZero();
    assertThat(r.err()).contains("PROXY under all-MiniLM-L6-v2").contains("sentence-t5-base");
    double mean = Double.parseDouble(r.out().trim());
    assertThat(mean).isGreaterThan(0.5).isLessThan(0.9); // row a is 1, row b well below
  }

  @Test
  @SuppressWarnings("unchecked")
  void forwardTakesTokenTypeIds(@TempDir Path dir) throws Exception {
    Path in = dir.resolve("ids.json");
    // [CLS] hello [SEP] world [SEP]: a pair, the second segment type 1
    Files.writeString(in, "{\"input_ids\": [[101, 7592, 102, 2088, 102]], \"token_type_ids\": [[0, 0, 0, 1, 1]]}");
    Path out = dir.resolve("out.json");
    Run r = run("forward", "--model", "All-MiniLM-L6-v2", "--input", in.toString(), "--output", out.toString());
    assertThat(r.rc()).as(r.err()).isZero();
    Map<String, Object> got = TensorJson.read(out);
    assertThat(got.keySet()).containsExactly("token_embeddings", "sentence_embedding");
    assertThat(((INDArray) got.get("sentence_embedding")).shape()).containsExactly(1, 384);

    Path zeros = dir.resolve("zeros.json");
    Files.writeString(in, "{\"input_ids\": [[101, 7592, 102, 2088, 102]]}");
    assertThat(run("forward", "--model", "all-MiniLM-L6-v2", "--input", in.toString(), "--output", zeros.toString()).rc()).isZero();
    INDArray a = (INDArray) got.get("token_embeddings");
    INDArray b = (INDArray) TensorJson.read(zeros).get("token_embeddings");
    assertThat(a.slice(0).getRow(0).distance2(b.slice(0).getRow(0))).isGreaterThan(0.01); // types change every token

    Files.writeString(in, "{\"input_ids\": [[101, 7592, 102]], \"token_type_ids\": [[0, 2, 0]]}");
    Run bad = run("forward", "--model", "all-MiniLM-L6-v2", "--input", in.toString(), "--output", dir.resolve("bad.json").toString());
    assertThat(bad.rc()).isEqualTo(1);
    assertThat(bad.err()).contains("token type 2.0 at row 0, position 1 is outside [0, 2) (type_vocab_size)");
    assertThat(dir.resolve("bad.json")).doesNotExist();
  }

  @Test
  void inspectShowsTheBuiltInModel() {
    Run r = run("inspect", "--model", "all-MiniLM-L6-v2", "--no-tensors");
    assertThat(r.rc()).as(r.err()).isZero();
    assertThat(r.out()).contains("model_type:  bert (sentence-transformers folder)").contains("weights:     model.onnx")
        .contains("parameters:  22565376");
  }

  static float[][] readNpy(Path npy, int rows, int cols) throws Exception {
    byte[] bytes = Files.readAllBytes(npy);
    int headerLen = (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8;
    String header = new String(bytes, 10, headerLen, StandardCharsets.US_ASCII);
    assertThat(header).contains("'shape': (" + rows + ", " + cols + ")");
    ByteBuffer b = ByteBuffer.wrap(bytes, 10 + headerLen, rows * cols * 4).order(ByteOrder.LITTLE_ENDIAN);
    float[][] out = new float[rows][cols];
    for (float[] row : out) {
      for (int k = 0; k < cols; k++) {
        row[k] = b.getFloat();
      }
    }
    return out;
  }

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
