package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.evaluation.Metric;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;
import org.promptrecovery4j.models.sentence.SentenceTransformer;

/**
 * Text → our tokenizer → model → result, against HuggingFace from text, on the tiny model folders that
 * carry a tokenizer ({@code tools/reference/e2e_fixtures.py}): sentence-t5 {@code embed} / {@code score} /
 * {@link Metric} against sentence-transformers, and {@code generate --prompt [--chat]} against transformers
 * (prompt ids, greedy ids, decoded text) for a Mistral-style (BPE + byte fallback) and a phi-2-style
 * (byte-level BPE) tokenizer.
 */
class TextEndToEndTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final double EMBEDDING_TOLERANCE = 1e-5;

  static Path fixture(String name) {
    return Path.of(System.getProperty("pr4j.fixtures", "../fixtures")).resolve(name);
  }

  static List<String> texts(JsonNode array) {
    List<String> l = new ArrayList<>();
    array.forEach(n -> l.add(n.asText()));
    return l;
  }

  static float[][] matrix(JsonNode rows) {
    float[][] m = new float[rows.size()][];
    for (int i = 0; i < m.length; i++) {
      m[i] = new float[rows.get(i).size()];
      for (int j = 0; j < m[i].length; j++) {
        m[i][j] = (float) rows.get(i).get(j).asDouble();
      }
    }
    return m;
  }

  static void assertRowsClose(float[][] got, float[][] want, List<String> texts) {
    assertThat(got.length).isEqualTo(want.length);
    double max = 0;
    for (int i = 0; i < want.length; i++) {
      for (int j = 0; j < Math.min(got[i].length, want[i].length); j++) {
        max = Math.max(max, Math.abs(got[i][j] - want[i][j]));
      }
    }
    System.err.printf("max |embedding - sentence-transformers| = %.3g over %d rows%n", max, want.length);
    for (int i = 0; i < want.length; i++) {
      assertThat(got[i].length).as("row %d", i).isEqualTo(want[i].length);
      for (int j = 0; j < want[i].length; j++) {
        assertThat((double) got[i][j]).as("text %s, value %d", JSON.valueToTree(texts.get(i)), j)
            .isCloseTo(want[i][j], within(EMBEDDING_TOLERANCE));
      }
    }
  }

  // ------------------------------------------------------------------------------------- sentence-t5

  @Test
  void embedFromTextEqualsSentenceTransformers(@TempDir Path tmp) throws Exception {
    Path model = fixture("sentence-t5-tiny-text");
    JsonNode want = JSON.readTree(model.resolve("expected.json").toFile());
    List<String> texts = texts(want.get("texts"));
    float[][] expected = matrix(want.get("embeddings"));

    // jsonl: every text, newlines included; batch 5 so batches mix truncated and short rows
    Path jsonl = tmp.resolve("texts.jsonl");
    List<String> lines = new ArrayList<>();
    for (String t : texts) {
      lines.add(JSON.writeValueAsString(t));
    }
    Files.write(jsonl, lines, StandardCharsets.UTF_8);
    Path npy = tmp.resolve("e.npy");
    assertThat(Main.run("embed", "--model", model.toString(), "--input", jsonl.toString(), "--output", npy.toString(),
        "--batch-size", "5")).isZero();
    assertRowsClose(EncoderCommandsTest.readNpy(npy, expected.length, expected[0].length), expected, texts);

    // .txt: one text a line (those without line breaks), rows in input order
    List<String> oneLine = new ArrayList<>();
    List<float[]> oneLineWant = new ArrayList<>();
    for (int i = 0; i < texts.size(); i++) {
      if (!texts.get(i).contains("\n")) {
        oneLine.add(texts.get(i));
        oneLineWant.add(expected[i]);
      }
    }
    Path txt = tmp.resolve("texts.txt");
    Files.write(txt, oneLine, StandardCharsets.UTF_8);
    Path npy2 = tmp.resolve("e2.npy");
    assertThat(Main.run("embed", "--model", model.toString(), "--input", txt.toString(), "--output", npy2.toString()))
        .isZero();
    assertRowsClose(EncoderCommandsTest.readNpy(npy2, oneLine.size(), expected[0].length),
        oneLineWant.toArray(new float[0][]), oneLine);
  }

  @Test
  void tokenizerIdsEqualHuggingFaceWithTruncation() throws Exception {
    Path model = fixture("sentence-t5-tiny-text");
    JsonNode want = JSON.readTree(model.resolve("expected.json").toFile());
    SentenceTransformer st = SentenceTransformer.load(model);
    assertThat(st.maxSeqLength()).isEqualTo(want.get("max_seq_length").asInt());
    var encoder = TextEncoders.forModel(model, st.maxSeqLength(), false);
    List<String> texts = texts(want.get("texts"));
    for (int i = 0; i < texts.size(); i++) {
      int[] ids = encoder.encode(texts.get(i));
      assertThat((JsonNode) JSON.valueToTree(ids)).as("text %s", JSON.valueToTree(texts.get(i)))
          .isEqualTo(want.get("input_ids").get(i));
    }
  }

  @Test
  void metricAndScoreFromTextEqualPython(@TempDir Path tmp) throws Exception {
    Path model = fixture("sentence-t5-tiny-text");
    JsonNode want = JSON.readTree(model.resolve("expected.json").toFile());
    List<String> predicted = new ArrayList<>();
    List<String> truth = new ArrayList<>();
    want.get("pairs").forEach(p -> {
      predicted.add(p.get("predicted").asText());
      truth.add(p.get("truth").asText());
    });
    double mean = want.get("mean_score").asDouble();

    // as ScoreCommand builds it
    SentenceTransformer st = SentenceTransformer.load(model);
    SentenceEmbedder embedder = new SentenceEmbedder(st, TextEncoders.forModel(model, st.maxSeqLength(), false), 4);
    Metric metric = new Metric(embedder::embed, Metric.KAGGLE_EXPONENT);
    double[] rows = metric.rowScores(predicted, truth);
    for (int i = 0; i < rows.length; i++) {
      assertThat(rows[i]).as("pair %d", i).isCloseTo(want.get("pairs").get(i).get("score").asDouble(), within(1e-5));
    }
    assertThat(Metric.mean(rows)).isCloseTo(mean, within(1e-5));

    // the score command over CSVs (texts with commas, quotes-free newlines: CSV quoting)
    List<List<String>> truthRows = new ArrayList<>();
    List<List<String>> predRows = new ArrayList<>();
    for (int i = 0; i < predicted.size(); i++) {
      truthRows.add(List.of("id" + i, truth.get(i)));
      predRows.add(List.of("id" + i, predicted.get(i)));
    }
    Path truthCsv = tmp.resolve("truth.csv");
    Path predCsv = tmp.resolve("pred.csv");
    Csv.write(truthCsv, List.of("id", "rewrite_prompt"), truthRows);
    Csv.write(predCsv, List.of("id", "rewrite_prompt"), predRows);
    CliRunner r = CliRunner.run("score", "--model", model.toString(), "--truth", truthCsv.toString(), "--predictions",
        predCsv.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(Double.parseDouble(r.out().trim())).isCloseTo(mean, within(1e-5));
  }

  // ------------------------------------------------------------------------------------- decoders

  @Test
  void mistralGenerateFromTextEqualsTransformers(@TempDir Path tmp) throws Exception {
    generateCases("tiny-mistral-text", tmp);
  }

  @Test
  void phiGenerateFromTextEqualsTransformers(@TempDir Path tmp) throws Exception {
    generateCases("tiny-phi-text", tmp);
  }

  static void generateCases(String name, Path tmp) throws Exception {
    Path model = fixture(name);
    JsonNode want = JSON.readTree(model.resolve("expected.json").toFile());
    int n = 0;
    for (JsonNode c : want.get("cases")) {
      String prompt = c.get("prompt").asText();
      boolean chat = c.get("chat").asBoolean();
      Path out = tmp.resolve("out" + n++ + ".json");
      List<String> args = new ArrayList<>(List.of("generate", "--model", model.toString(), "--prompt", prompt,
          "--max-new-tokens", want.get("max_new_tokens").asText(), "--greedy", "--no-eos", "--output", out.toString()));
      if (chat) {
        args.add("--chat");
      }
      CliRunner r = CliRunner.run(args.toArray(new String[0]));
      String what = name + " prompt " + JSON.writeValueAsString(prompt) + (chat ? " (chat)" : "");
      assertThat(r.exitCode()).as(what + ": " + r.err()).isZero();
      JsonNode got = JSON.readTree(out.toFile());
      assertThat(got.get("prompt_ids")).as(what + ": prompt ids").isEqualTo(c.get("prompt_ids"));
      assertThat(got.get("generated_ids")).as(what + ": generated ids").isEqualTo(c.get("generated_ids"));
      assertThat(got.get("text").asText()).as(what + ": text").isEqualTo(c.get("text").asText());
      assertThat(got.get("finish_reason").asText()).isEqualTo("length");
    }
    assertThat(n).isGreaterThanOrEqualTo(3);
  }
}
