package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.models.builtin.BuiltinModels;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;

/**
 * A measurement on the 1,427 real rows (../shared/data/gemma_rewrites.csv), run only with
 * {@code -Dpr4j.bench.fewshot=true} (it embeds every row with the built-in encoder: minutes on a small CPU): the
 * leave-one-out examples the few-shot recoverer picks (how often the nearest rows carry the row's own prompt), and
 * the length of its prompts in Mistral-7B-Instruct's real tokens (the tokenizer of ../shared; a tiny model's weights
 * stand in, nothing is generated).
 */
class FewShotRealDataTest {

  static final Path SHARED = Path.of(System.getProperty("pr4j.shared", "../../shared"));

  @Test
  void leaveOneOutExamplesAndPromptLengthsOnTheRealRows(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(Boolean.getBoolean("pr4j.bench.fewshot"), "measurement: give -Dpr4j.bench.fewshot=true");
    Path csv = SHARED.resolve("data/gemma_rewrites.csv");
    Path tok = SHARED.resolve("conformance/tokenizers/mistral-7b-instruct-v0.2");
    Assumptions.assumeTrue(Files.isRegularFile(csv) && Files.isDirectory(tok), "skipped: ../shared is absent");
    long t0 = System.nanoTime();
    ExampleBank bank = ExampleBank.load(csv, BuiltinModels.allMiniLmL6V2()::embed);
    long t1 = System.nanoTime();
    List<KaggleRow> rows = KaggleCsv.read(csv).rows();
    List<int[]> nearest = bank.nearest(rows, 3);
    int top1 = 0;
    int top3 = 0;
    for (int i = 0; i < rows.size(); i++) {
      String truth = rows.get(i).rewritePrompt().orElseThrow().strip();
      int[] e = nearest.get(i);
      assertThat(e).hasSize(3);
      for (int j : e) {
        assertThat(bank.mayExplain(j, rows.get(i))).isTrue();
      }
      top1 += bank.get(e[0]).rewritePrompt().orElseThrow().strip().equals(truth) ? 1 : 0;
      top3 += Arrays.stream(e).anyMatch(j -> bank.get(j).rewritePrompt().orElseThrow().strip().equals(truth)) ? 1 : 0;
    }
    long t2 = System.nanoTime();

    // Mistral's real tokenizer and its first published chat template on a tiny model's weights
    Path model = TinyLms.withContext("tiny-mistral-text", dir, 32768);
    Files.copy(tok.resolve("tokenizer.json"), model.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    ObjectNode cfg = (ObjectNode) TinyLms.JSON.readTree(tok.resolve("tokenizer_config.json").toFile());
    JsonNode templates = TinyLms.JSON.readTree(TinyLms.FIXTURES.resolve("chat-templates/expected.json").toFile());
    cfg.put("chat_template", templates.get("templates").get("mistral-v0.2-old").get("chat_template").asText());
    TinyLms.JSON.writeValue(model.resolve("tokenizer_config.json").toFile(), cfg);
    int[] full = new int[rows.size()];
    int cut = 0;
    try (TextGenerator g = TextGenerator.load(model, null, WeightStorage.FLOAT32)) {
      FewShotRecoverer wide = new FewShotRecoverer(g, bank, new FewShotRecoverer.Settings(3, 30000, 64, 4, null));
      FewShotRecoverer r = new FewShotRecoverer(g, bank, FewShotRecoverer.Settings.defaults());
      for (int i = 0; i < rows.size(); i++) {
        full[i] = wide.promptIds(rows.get(i), nearest.get(i)).length;
        if (full[i] > r.settings().maxPromptTokens()) {
          cut++;
          assertThat(r.promptIds(rows.get(i), nearest.get(i)).length).isLessThanOrEqualTo(r.settings().maxPromptTokens());
        }
      }
    }
    int[] sorted = full.clone();
    Arrays.sort(sorted);
    System.err.printf(Locale.ROOT, "few-shot on %d real rows: embedded in %.1f s, neighbours in %.1f s; leave-one-out"
        + " nearest example has the row's own prompt: %d (%.1f %%), one of the 3 nearest: %d (%.1f %%); k=3 prompt"
        + " tokens (Mistral): median %d, p90 %d, max %d; over %d: %d rows%n", rows.size(), (t1 - t0) / 1e9,
        (t2 - t1) / 1e9, top1, 100.0 * top1 / rows.size(), top3, 100.0 * top3 / rows.size(), sorted[sorted.length / 2],
        sorted[sorted.length * 9 / 10], sorted[sorted.length - 1], FewShotRecoverer.Settings.DEFAULT_MAX_PROMPT_TOKENS,
        cut);
    assertThat(top3).isGreaterThanOrEqualTo(top1);
  }
}
