package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.evaluation.Submission;
import org.promptrecovery4j.models.builtin.BuiltinModels;

/**
 * The whole pipeline on real rows of ../shared (skipped without it): every recoverer type of a config (the built-in
 * zero-shot and nearest examples on the real encoder; the regressor, LoRA and few-shot on the tiny random-weight
 * fixtures) and their
 * ensemble; {@code predict} writes a valid submission and {@code evaluate} its per-row CSV. A seeded sample of
 * {@value #DEFAULT_ROWS} rows by default, all 1,427 with {@code -Dpr4j.realRows=0}.
 */
class EndToEndTest {

  static final int DEFAULT_ROWS = 24;

  @Test
  void everyRecovererAndTheEnsembleOverRealRows(@TempDir Path tmp) throws Exception {
    Assumptions.assumeTrue(Files.isRegularFile(RealRowsRecoveryTest.CSV), "skipped: " + RealRowsRecoveryTest.CSV + " is absent");
    KaggleTable all = KaggleCsv.read(RealRowsRecoveryTest.CSV);
    int n = Integer.getInteger("pr4j.realRows", DEFAULT_ROWS);
    List<KaggleRow> rows = new ArrayList<>(all.rows());
    if (n > 0 && n < rows.size()) {
      java.util.Collections.shuffle(rows, new java.util.Random(3));
      rows = rows.subList(0, n);
    }
    Path input = tmp.resolve("rows.csv");
    KaggleCsv.write(input, new KaggleTable(input, all.header(), rows));
    Path phi = TinyLms.withContext("tiny-phi-text", tmp, 4096);
    Path mistral = TinyLms.withContext("tiny-mistral-text", tmp, 4096);
    Path adapter = TinyLms.adapter(tmp, "phi-adapter", 2, TinyLms.phiShapes(), 5);
    Path head = Files.createDirectories(tmp.resolve("head"));
    org.promptrecovery4j.training.head.RegressionHead.initialize(
        org.promptrecovery4j.training.head.RegressionHead.Config.of(128, 16, 24), 7)
        .save(head.resolve(org.promptrecovery4j.training.head.HeadTrainer.HEAD));
    Path config = tmp.resolve("recovery.json");
    Files.writeString(config, """
        {
          "recoverers": [
            {"type": "nearest-examples", "examples": "rows.csv"},
            {"type": "regressor", "deberta": "%s", "head": "head", "sentence_t5": "%s", "bank": "builtin", "top_k": 2},
            {"type": "lora", "model": "%s", "adapter": "%s", "max_new_tokens": 12, "max_length": 1024},
            {"type": "few-shot", "model": "%s", "examples": "rows.csv", "k": 2, "max_prompt_tokens": 1500,
             "max_new_tokens": 12, "response_prefix": "Rewrite"},
            {"type": "zero-shot", "top_k": 1}
          ],
          "ensemble": {"separator": " ", "dedupe": true, "append": "Improve the text.", "fallback": "Rewrite this text."},
          "batch_size": 8
        }
        """.formatted(RegressorRecovererTest.DEBERTA.toAbsolutePath(), RegressorRecovererTest.ST5.toAbsolutePath(),
            phi.getFileName(), adapter.getFileName(), mistral.getFileName()));
    RecoveryConfig c = RecoveryConfig.read(config);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Path submission = tmp.resolve("submission.csv");
    PredictJob.Result r = PredictJob.run(input, submission, c, new PrintStream(log, true));
    List<Submission.Row> out = Submission.read(submission);
    assertThat(out).hasSize(rows.size());
    assertThat(new HashSet<>(out.stream().map(Submission.Row::id).toList())).hasSize(rows.size());
    assertThat(out).extracting(Submission.Row::id).containsExactlyElementsOf(rows.stream().map(KaggleRow::id).toList());
    assertThat(out).allSatisfy(x -> assertThat(x.prompt()).isNotBlank().endsWith("Improve the text."));
    assertThat(r.failed()).isZero();

    Path eval = tmp.resolve("eval.csv");
    EvaluateJob.Result e = EvaluateJob.run(input, eval, c, BuiltinModels.allMiniLmL6V2().memoize(100_000),
        "all-MiniLM-L6-v2", new PrintStream(log, true));
    assertThat(e.names()).containsExactly("nearest-examples", "regressor", "lora", "few-shot", "zero-shot",
        "ensemble");
    assertThat(Csv.read(eval).rows()).hasSize(rows.size());
    assertThat(EvaluateJob.png(eval)).isNotEmptyFile();
    java.nio.file.Path keep = Path.of(System.getProperty("pr4j.e2e.keep", ""));
    if (!keep.toString().isEmpty()) {
      Files.createDirectories(keep);
      for (Path f : List.of(submission, eval, EvaluateJob.png(eval))) {
        Files.copy(f, keep.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
    String report = log.toString(StandardCharsets.UTF_8);
    System.out.println(report.lines().filter(l -> l.startsWith("evaluate:") || l.startsWith("predict: wrote"))
        .reduce("", (a, b) -> a + b + "\n"));
    // real encoder recoverers beat the random-weight generators, whose answers are gibberish
    assertThat(e.mean("nearest-examples")).isGreaterThan(e.mean("lora"));
  }
}
