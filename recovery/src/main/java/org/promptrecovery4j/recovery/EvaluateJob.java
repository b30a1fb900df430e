package org.promptrecovery4j.recovery;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.core.Progress;
import org.promptrecovery4j.evaluation.Charts;
import org.promptrecovery4j.evaluation.SharpenedCosine;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;

/**
 * {@code evaluate}: predicts on labelled rows and scores every recoverer of the config and their ensemble, row by
 * row, with a scorer encoder (sentence-t5-base for the competition's metric; the built-in all-MiniLM-L6-v2 gives a
 * proxy). A row's true prompt is excluded from every bank and example set that answers it
 * ({@link PromptRecoverer#excludeTruePrompts}), so the scores measure recovery, not lookup.
 */
public final class EvaluateJob {

  /** Mean sharpened cosine per recoverer (config order, then "ensemble") and the per-row scores. */
  public record Result(List<String> names, Map<String, double[]> scores, String scorer) {
    public double mean(String name) {
      double s = 0;
      for (double v : scores.get(name)) {
        s += v;
      }
      return s / scores.get(name).length;
    }
  }

  private EvaluateJob() {}

  /** The histogram's file: the CSV's name with {@code .png} for its extension. */
  public static Path png(Path csv) {
    String name = csv.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return csv.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + ".png");
  }

  /**
   * Evaluates {@code config} on {@code input} (rows with {@code rewrite_prompt}), writing the per-row CSV
   * {@code output} (id, rewrite_prompt, then each recoverer's answer and score, then the ensemble's).
   */
  public static Result run(Path input, Path output, RecoveryConfig config, SentenceEmbedder scorer, String scorerName,
      PrintStream log) throws IOException {
    KaggleTable table = KaggleCsv.read(input);
    if (!table.hasRewritePrompt()) {
      throw new IllegalArgumentException(input + ": evaluate needs labelled rows (a rewrite_prompt column)");
    }
    List<KaggleRow> rows = table.rows();
    List<EnsembleRecoverer.Detailed> answers = new ArrayList<>(rows.size());
    List<String> names = new ArrayList<>();
    try (EnsembleRecoverer ensemble = config.build()) {
      ensemble.excludeTruePrompts(true);
      ensemble.members().forEach(m -> names.add(m.name()));
      try (Progress progress = Progress.start("evaluate", rows.size(), Progress.Unit.ITEMS)) {
        for (int from = 0; from < rows.size(); from += config.batchSize()) {
          List<KaggleRow> batch = PredictJob.prepare(rows.subList(from, Math.min(rows.size(), from + config.batchSize())),
              config);
          answers.addAll(ensemble.recoverDetailed(batch));
          progress.advance(batch.size());
        }
      }
    }
    names.add(EnsembleRecoverer.NAME);
    List<String> texts = new ArrayList<>();
    rows.forEach(r -> texts.add(r.rewritePrompt().orElseThrow()));
    for (EnsembleRecoverer.Detailed d : answers) {
      texts.addAll(d.members());
      texts.add(d.combined());
    }
    // blank member answers are scored 0 (as a missing answer); they are embedded as a placeholder and ignored
    List<String> embeddable = texts.stream().map(t -> t.isBlank() ? "." : t).toList();
    float[][] e = scorer.embed(embeddable);
    int per = names.size();
    Map<String, double[]> scores = new LinkedHashMap<>();
    names.forEach(n -> scores.put(n, new double[rows.size()]));
    List<List<String>> csv = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      List<String> line = new ArrayList<>(List.of(rows.get(i).id(), rows.get(i).rewritePrompt().orElseThrow()));
      for (int k = 0; k < per; k++) {
        String answer = texts.get(rows.size() + i * per + k);
        double s = answer.isBlank() ? 0 : SharpenedCosine.score(e[rows.size() + i * per + k], e[i], 3);
        scores.get(names.get(k))[i] = s;
        line.add(answer);
        line.add(String.format(Locale.ROOT, "%.6f", s));
      }
      csv.add(line);
    }
    List<String> header = new ArrayList<>(List.of("id", "rewrite_prompt"));
    for (String n : names) {
      header.add(n);
      header.add(n + "_score");
    }
    Csv.write(output, header, csv);
    Result r = new Result(names, scores, scorerName);
    Path png = png(output);
    List<Charts.Sample> samples = new ArrayList<>();
    for (String n : names) {
      samples.add(new Charts.Sample(String.format(Locale.ROOT, "%s (mean %.3f)", n, r.mean(n)), scores.get(n)));
    }
    Charts.histogram(png, Charts.Frame.of("Sharpened cosine per row (" + rows.size() + " rows), scored with " + scorerName,
        "cos³ of answer and true prompt", "rows"), samples, 20, 0, 1);
    for (String n : names) {
      log.printf(Locale.ROOT, "evaluate: %-20s mean sharpened cosine %.4f over %d rows%n", n, r.mean(n), rows.size());
    }
    log.println("evaluate: scored with " + scorerName + (scorerName.toLowerCase(Locale.ROOT).contains("sentence-t5")
        ? "" : " (a PROXY: the competition's metric embeds with sentence-t5-base)") + "; wrote " + output + " and " + png);
    return r;
  }
}
