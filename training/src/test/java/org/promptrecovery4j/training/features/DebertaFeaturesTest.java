package org.promptrecovery4j.training.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.core.TensorJson;
import org.promptrecovery4j.models.nn.LinearPrecision;

/**
 * The seed's DeBERTa features against HF ({@code tools/reference/features_fixtures.py}: a tiny random DeBERTa-v3
 * with its SentencePiece tokenizer, 6 rows, features computed by HF in float32), the resume file, and the errors.
 */
class DebertaFeaturesTest {

  static final Path FIXTURES = Path.of(System.getProperty("pr4j.fixtures", "../fixtures")).toAbsolutePath();
  static final Path MODEL = FIXTURES.resolve("deberta-v3-tiny-features");
  static final Path DATA = MODEL.resolve("data.csv");
  static final int WIDTH = 4 * 32;

  @Test
  void tokenIdsAreHfsWithTruncation() throws IOException {
    for (int max : new int[] {16, 384}) {
      JsonNode want = new ObjectMapper().readTree(MODEL.resolve("expected-max" + max + ".json").toFile());
      DebertaFeatures f = DebertaFeatures.open(MODEL, max);
      Csv.Table t = Csv.read(DATA);
      for (int r = 0; r < t.rows().size(); r++) {
        assertThat(f.encode(t.row(r).get("original_text"))).as("max %d row %d original", max, r)
            .containsExactly(ints(want.get("input_ids_original").get(r)));
        assertThat(f.encode(t.row(r).get("rewritten_text"))).as("max %d row %d rewritten", max, r)
            .containsExactly(ints(want.get("input_ids_rewritten").get(r)));
      }
    }
  }

  @Test
  void featuresMatchHfAtMaxLength16And384(@TempDir Path dir) throws IOException {
    for (int max : new int[] {16, 384}) {
      for (int batch : new int[] {1, 4, 8}) {
        Path out = dir.resolve("feats-" + max + "-" + batch + ".npy");
        FeatureJob.Result r = FeatureJob.run(FeatureJob.Settings.of(MODEL, DATA, out).withMaxLength(max)
            .withBatchSize(batch));
        assertThat(r.rows()).isEqualTo(6);
        assertThat(r.width()).isEqualTo(WIDTH);
        assertThat(r.resumedRows()).isZero();
        float[][] got = readNpy(out);
        float[][] want = readNpy(MODEL.resolve("expected-max" + max + ".npy"));
        double diff = maxDiff(got, want);
        System.err.printf("features max %d batch %d: max |diff| vs HF %.3g%n", max, batch, diff);
        assertThat(diff).as("max %d batch %d", max, batch).isLessThan(1e-4);
        assertThat(FeatureJob.partialFile(out)).doesNotExist();
        assertThat(FeatureJob.stateFile(out)).doesNotExist();
      }
    }
  }

  /**
   * {@code --compute bf16} against PyTorch (tools/reference/encoder_bf16_fixtures.py → expected-bf16.json): HF's bf16
   * features differ from its float32 ones (expected-max384.npy) by {@code e} (0.069, features up to 2.94); these are
   * within {@code 3e} of both, and within {@code e/10} of the emulation of this path (nn.Linear weights, inputs and
   * products rounded to bf16 in the float32 model). The fixture's weights are float32: the rounding of the
   * checkpoint to bf16 is part of what is checked.
   */
  @Test
  void bf16ComputeIsWithinBf16RoundingOfHf(@TempDir Path dir) throws IOException {
    JsonNode ref = new ObjectMapper().readTree(MODEL.resolve("expected-bf16.json").toFile());
    double e = ref.get("fp32_max_abs_diff").asDouble();
    float[][] hfBf16 = TensorJson.tensor(ref.get("features"), "features").toFloatMatrix();
    float[][] emulated = TensorJson.tensor(ref.get("emulated_features"), "emulated_features").toFloatMatrix();
    float[][] fp32 = readNpy(MODEL.resolve("expected-max384.npy"));
    Path out = dir.resolve("feats.npy");
    FeatureJob.run(FeatureJob.Settings.of(MODEL, DATA, out).withCompute(LinearPrecision.BF16));
    float[][] got = readNpy(out);
    double toEmulated = maxDiff(got, emulated);
    double toHfBf16 = maxDiff(got, hfBf16);
    double toFp32 = maxDiff(got, fp32);
    System.err.printf("bf16 features: max |diff| to the emulation %.3g, to HF bf16 %.4f, to HF fp32 %.4f (e = %.4f)%n",
        toEmulated, toHfBf16, toFp32, e);
    assertThat(toEmulated).isLessThanOrEqualTo(e / 10);
    assertThat(toHfBf16).isLessThanOrEqualTo(3 * e);
    assertThat(toFp32).isLessThanOrEqualTo(3 * e).isGreaterThan(1e-3);
    assertThat(DebertaFeatures.open(MODEL, 384, LinearPrecision.BF16).compute()).isEqualTo(LinearPrecision.BF16);
  }

  @Test
  void inMemoryTextsGiveTheSameRows() throws IOException {
    Csv.Table t = Csv.read(DATA);
    List<String> o = new ArrayList<>();
    List<String> r = new ArrayList<>();
    for (int i = 0; i < t.rows().size(); i++) {
      o.add(t.row(i).get("original_text"));
      r.add(t.row(i).get("rewritten_text"));
    }
    float[][] got = DebertaFeatures.open(MODEL, 16).texts(o, r, 3);
    assertThat(maxDiff(got, readNpy(MODEL.resolve("expected-max16.npy")))).isLessThan(1e-4);
  }

  @Test
  void aResumedRunKeepsWholeBatchesCutsATornEndAndMatchesAFreshRun(@TempDir Path dir) throws IOException {
    Path fresh = dir.resolve("fresh.npy");
    FeatureJob.Settings s = FeatureJob.Settings.of(MODEL, DATA, fresh).withMaxLength(16).withBatchSize(2);
    FeatureJob.run(s);
    // an interrupted run: its state, two whole batches and a torn third one (one whole record and a half)
    Path out = dir.resolve("feats.npy");
    FeatureJob.Settings s2 = new FeatureJob.Settings(MODEL, DATA, out, 2, 16, "original_text", "rewritten_text");
    DebertaFeatures f = DebertaFeatures.open(MODEL, 16);
    List<int[]> o = new ArrayList<>();
    List<int[]> r = new ArrayList<>();
    Csv.Table t = Csv.read(DATA);
    for (int i = 0; i < t.rows().size(); i++) {
      o.add(f.encode(t.row(i).get("original_text")));
      r.add(f.encode(t.row(i).get("rewritten_text")));
    }
    int[] order = DebertaFeatures.lengthOrder(o, r);
    ResumeState.write(FeatureJob.stateFile(out), ResumeState.of(DATA, MODEL, "original_text", "rewritten_text", 16, 2,
        LinearPrecision.FLOAT32, 6, WIDTH));
    try (PartialFeatures p = PartialFeatures.resume(FeatureJob.partialFile(out), WIDTH, order, 2)) {
      for (int b = 0; b < 3; b++) {
        int[] rows = {order[2 * b], order[2 * b + 1]};
        p.append(rows, f.rows(DebertaFeatures.pick(o, rows), DebertaFeatures.pick(r, rows)));
      }
    }
    long full = Files.size(FeatureJob.partialFile(out));
    try (var ch = java.nio.channels.FileChannel.open(FeatureJob.partialFile(out),
        java.nio.file.StandardOpenOption.WRITE)) {
      ch.truncate(full - PartialFeatures.recordBytes(WIDTH) / 2); // the kill came mid-record of the last batch
    }
    FeatureJob.Result res = FeatureJob.run(s2);
    assertThat(res.resumedRows()).as("two whole batches kept, the torn one recomputed").isEqualTo(4);
    assertThat(readNpy(out)).isDeepEqualTo(readNpy(fresh));
    assertThat(FeatureJob.partialFile(out)).doesNotExist();
    assertThat(FeatureJob.stateFile(out)).doesNotExist();
  }

  @Test
  void aResumeWithOtherSettingsOrInputIsRefused(@TempDir Path dir) throws IOException {
    Path out = dir.resolve("feats.npy");
    ResumeState.write(FeatureJob.stateFile(out), ResumeState.of(DATA, MODEL, "original_text", "rewritten_text", 16, 2,
        LinearPrecision.FLOAT32, 6, WIDTH));
    FeatureJob.Settings s = FeatureJob.Settings.of(MODEL, DATA, out).withMaxLength(16).withBatchSize(2);
    assertThatThrownBy(() -> FeatureJob.run(s.withBatchSize(3))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("feats.npy.partial.json").hasMessageContaining("different --batch-size").hasMessageContaining("(was 2, now 3)")
        .hasMessageContaining("delete feats.npy.partial.json and feats.npy.partial");
    assertThatThrownBy(() -> FeatureJob.run(s.withMaxLength(384))).hasMessageContaining("different --max-length")
        .hasMessageContaining("(was 16, now 384)");
    assertThatThrownBy(() -> FeatureJob.run(s.withCompute(LinearPrecision.BF16))).hasMessageContaining("different --compute")
        .hasMessageContaining("(was float32, now bf16)");
    // a state from before --compute: those runs computed in float32
    ObjectMapper json = new ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode old = (com.fasterxml.jackson.databind.node.ObjectNode)
        json.readTree(FeatureJob.stateFile(out).toFile());
    old.remove("compute");
    json.writeValue(FeatureJob.stateFile(out).toFile(), old);
    assertThatThrownBy(() -> FeatureJob.run(s.withCompute(LinearPrecision.BF16))).hasMessageContaining("different --compute")
        .hasMessageContaining("(was float32, now bf16)");
    Path other = dir.resolve("other.csv");
    Files.writeString(other, Files.readString(DATA).replace("hello world", "hello there"));
    assertThatThrownBy(() -> FeatureJob.run(new FeatureJob.Settings(MODEL, other, out, 2, 16, "original_text",
        "rewritten_text"))).hasMessageContaining("the input file");
    assertThat(out).doesNotExist();
    // records that are not the rows this run puts there
    Files.write(FeatureJob.partialFile(out), new byte[(int) (2 * PartialFeatures.recordBytes(WIDTH))]);
    assertThatThrownBy(() -> FeatureJob.run(s)).hasMessageContaining("feats.npy.partial: record 0 is row 0, this run"
        + " puts row ").hasMessageContaining("does not belong to this run");
    // a state file of something else
    Path out3 = dir.resolve("feats3.npy");
    Files.writeString(FeatureJob.stateFile(out3), "{}");
    assertThatThrownBy(() -> FeatureJob.run(FeatureJob.Settings.of(MODEL, DATA, out3)))
        .hasMessageContaining("feats3.npy.partial.json: not the state of a features run of this version");
    Files.writeString(FeatureJob.stateFile(out3), "not json");
    assertThatThrownBy(() -> FeatureJob.run(FeatureJob.Settings.of(MODEL, DATA, out3)))
        .hasMessageContaining("feats3.npy.partial.json: not a features state file");
    // and a partial file without its state is not guessed at
    Path out2 = dir.resolve("feats2.npy");
    Files.write(FeatureJob.partialFile(out2), new byte[10]);
    assertThatThrownBy(() -> FeatureJob.run(FeatureJob.Settings.of(MODEL, DATA, out2)))
        .hasMessageContaining("feats2.npy.partial: partial results without their feats2.npy.partial.json");
  }

  @Test
  void errorsNameTheFileAndColumnOrTheFolder(@TempDir Path dir) throws IOException {
    Path out = dir.resolve("f.npy");
    assertThatThrownBy(() -> FeatureJob.run(new FeatureJob.Settings(MODEL, DATA, out, 8, 384, "original_text",
        "rewritten"))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(DATA.toString()).hasMessageContaining("no column 'rewritten'");
    assertThatThrownBy(() -> FeatureJob.run(FeatureJob.Settings.of(FIXTURES.resolve("deberta-v3-tiny-bf16"), DATA, out)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("deberta-v3-tiny-bf16")
        .hasMessageContaining("no usable tokenizer in the model folder");
    assertThatThrownBy(() -> FeatureJob.run(FeatureJob.Settings.of(FIXTURES.resolve("sentence-t5-tiny-text"), DATA, out)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a DeBERTa-v2/v3 model (model_type t5)");
    assertThatThrownBy(() -> FeatureJob.run(FeatureJob.Settings.of(MODEL, dir.resolve("missing.csv"), out)))
        .isInstanceOf(IOException.class).hasMessageContaining("missing.csv");
    assertThat(out).doesNotExist();
  }

  @Test
  void idsTheModelHasNoRowForNameTheFileColumnAndRow(@TempDir Path dir) throws IOException {
    Path model = Files.createDirectories(dir.resolve("model"));
    for (String f : new String[] {"config.json", "model.safetensors"}) { // a table of 96 rows
      Files.copy(FIXTURES.resolve("deberta-v3-tiny-bf16").resolve(f), model.resolve(f));
    }
    for (String f : new String[] {"spm.model", "tokenizer_config.json"}) { // ids up to 500
      Files.copy(MODEL.resolve(f), model.resolve(f));
    }
    Path csv = dir.resolve("rows.csv");
    Csv.write(csv, List.of("original_text", "rewritten_text"), List.of(List.of("", ""), List.of("", "hello world")));
    assertThatThrownBy(() -> FeatureJob.run(FeatureJob.Settings.of(model, csv, dir.resolve("f.npy"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(csv + ", column rewritten_text: DeBERTa: token id ")
        .hasMessageContaining("183 at row 1, position 1").hasMessageContaining("outside the vocabulary [0, 96)");
  }

  @Test
  void aHeaderOnlyCsvGivesAnEmptyArray(@TempDir Path dir) throws IOException {
    Path csv = dir.resolve("none.csv");
    Files.writeString(csv, "original_text,rewritten_text\n");
    Path out = dir.resolve("f.npy");
    assertThat(FeatureJob.run(FeatureJob.Settings.of(MODEL, csv, out)).rows()).isZero();
    assertThat(readNpy(out)).isEmpty();
    assertThat(new String(Files.readAllBytes(out), java.nio.charset.StandardCharsets.US_ASCII)).contains("(0, 128)");
  }

  @Test
  void emptyTextsAreTheMeanOfClsAndSep(@TempDir Path dir) throws IOException {
    Path csv = dir.resolve("empty.csv");
    Csv.write(csv, List.of("original_text", "rewritten_text"), List.of(List.of("", ""), List.of("hello world", "")));
    Path out = dir.resolve("f.npy");
    FeatureJob.run(FeatureJob.Settings.of(MODEL, csv, out));
    float[][] got = readNpy(out);
    float[][] hf = readNpy(MODEL.resolve("expected-max384.npy")); // row r1: "hello world", ""
    float[] emptyHalf = java.util.Arrays.copyOfRange(hf[1], 2 * 32, 4 * 32);
    assertThat(maxDiff(new float[][] {java.util.Arrays.copyOfRange(got[0], 0, 64)}, new float[][] {emptyHalf}))
        .isLessThan(1e-4);
    assertThat(maxDiff(new float[][] {got[1]}, new float[][] {hf[1]})).isLessThan(1e-4);
  }

  static int[] ints(JsonNode a) {
    int[] v = new int[a.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = a.get(i).asInt();
    }
    return v;
  }

  static double maxDiff(float[][] a, float[][] b) {
    assertThat(a.length).isEqualTo(b.length);
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      assertThat(a[i]).hasSameSizeAs(b[i]);
      for (int j = 0; j < a[i].length; j++) {
        m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
      }
    }
    return m;
  }

  /** A float32 2-D .npy (format 1.0, C order, little-endian), as numpy and {@code Npy} write it. */
  static float[][] readNpy(Path file) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    int header = b.getShort(8) & 0xffff;
    String h = new String(Files.readAllBytes(file), 10, header, java.nio.charset.StandardCharsets.US_ASCII);
    assertThat(h).contains("'descr': '<f4'").contains("'fortran_order': False");
    String shape = h.substring(h.indexOf("'shape': (") + 10, h.indexOf(')', h.indexOf("'shape'")));
    String[] dims = shape.split(",");
    int rows = Integer.parseInt(dims[0].trim());
    int cols = Integer.parseInt(dims[1].trim());
    b.position(10 + header);
    float[][] out = new float[rows][cols];
    for (float[] row : out) {
      b.asFloatBuffer().get(row);
      b.position(b.position() + 4 * cols);
    }
    return out;
  }
}
