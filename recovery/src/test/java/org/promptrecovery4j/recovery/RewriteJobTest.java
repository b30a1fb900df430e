package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.core.JobState;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;
import org.promptrecovery4j.models.generation.GenerationConfig;
import org.promptrecovery4j.models.generation.Generator;

/** The rewrite job on tiny-mistral-text (random weights, a real tokenizer and Mistral's chat template). */
class RewriteJobTest {

  static final Path MODEL = TinyLms.FIXTURES.resolve("tiny-mistral-text");

  @TempDir Path dir;

  Path texts() throws IOException {
    Path t = dir.resolve("texts.csv");
    Csv.write(t, List.of("id", "original_text"), List.of(List.of("1", "The cat sat."), List.of("2", "Rain tomorrow."),
        List.of("3", "The cat sat."), List.of("4", "We won the game.")));
    return t;
  }

  Path prompts() throws IOException {
    Path p = dir.resolve("prompts.json");
    Files.writeString(p, "[\"Make it formal.\", \" **Make it a poem.\", \"Make it formal.\", \"  \"]");
    return p;
  }

  RewriteJob.Settings settings(String output) throws IOException {
    return RewriteJob.Settings.of(MODEL, texts(), prompts(), dir.resolve(output)).withMaxNewTokens(8).withBatchSize(2);
  }

  @Test
  void thePlanIsTheCrossProductOrSeededDistinctPairs() {
    RewritePlan all = RewritePlan.crossProduct(3, 2);
    List<String> ids = new ArrayList<>();
    for (int p = 0; p < all.size(); p++) {
      ids.add(all.get(p).id());
    }
    assertThat(ids).containsExactly("t0-p0", "t0-p1", "t1-p0", "t1-p1", "t2-p0", "t2-p1");
    RewritePlan r = RewritePlan.random(10, 20, 15, 7);
    List<RewritePlan.Pair> pairs = new ArrayList<>();
    for (int p = 0; p < r.size(); p++) {
      pairs.add(r.get(p));
    }
    assertThat(new HashSet<>(pairs)).hasSize(15);
    assertThat(pairs).isSortedAccordingTo((a, b) -> a.text() != b.text() ? Integer.compare(a.text(), b.text())
        : Integer.compare(a.prompt(), b.prompt()));
    assertThat(RewritePlan.random(10, 20, 15, 7)).isEqualTo(r);
    assertThat(RewritePlan.random(10, 20, 15, 8)).isNotEqualTo(r);
    // the draw is pinned: java.util.Random's specified sequence, Floyd's sampling
    assertThat(pairs.subList(0, 4).stream().map(RewritePlan.Pair::id).toList())
        .containsExactly(PINNED_SEED_7.toArray(String[]::new));
    assertThat(RewritePlan.random(3, 2, 6, 1)).as("all pairs drawn = the cross product, in its order")
        .satisfies(p -> assertThat(p.get(5).id()).isEqualTo("t2-p1"));
    assertThatThrownBy(() -> RewritePlan.random(3, 2, 7, 1))
        .hasMessage("--pairs 7: must be between 1 and the 3 × 2 = 6 pairs there are");
    assertThatThrownBy(() -> RewritePlan.crossProduct(100_000, 100_000)).hasMessageContaining("draw some with --pairs N");
  }

  static final List<String> PINNED_SEED_7 = List.of("t1-p1", "t1-p3", "t2-p0", "t3-p1");

  @Test
  void eachPairIsTheUserTurnThroughTheTemplateAnswerCleaned() throws IOException {
    RewriteJob.Settings s = settings("out.csv");
    RewriteJob.Result res = RewriteJob.run(s);
    assertThat(res).isEqualTo(new RewriteJob.Result(6, 0, res.emptyRewrites()));
    Csv.Table t = Csv.read(s.output());
    assertThat(t.header()).containsExactly("id", "original_text", "rewritten_text", "rewrite_prompt");
    assertThat(t.rows().stream().map(r -> r.get(0) + " | " + r.get(1) + " | " + r.get(3)).toList()).containsExactly(
        "t0-p0 | The cat sat. | Make it formal.", "t0-p1 | The cat sat. | **Make it a poem.",
        "t1-p0 | Rain tomorrow. | Make it formal.", "t1-p1 | Rain tomorrow. | **Make it a poem.",
        "t2-p0 | We won the game. | Make it formal.", "t2-p1 | We won the game. | **Make it a poem.");
    // the user turn "<prompt>\n\n<original>" in the chat template; each batch of 2 a direct Generator call, cleaned
    try (TextGenerator g = TextGenerator.load(MODEL, null, WeightStorage.FLOAT32)) {
      assertThat(g.codec().decode(RewriteJob.promptIds("Make it formal.", "The cat sat.", g.codec(), g.chatTemplate())))
          .isEqualTo(g.codec().decode(g.codec().encode("<s>[INST] Make it formal.\n\nThe cat sat. [/INST]", false)));
      assertThat(RewriteJob.promptIds("Make it formal.", "The cat sat.", g.codec(), g.chatTemplate()))
          .containsExactly(g.codec().encode("<s>[INST] Make it formal.\n\nThe cat sat. [/INST]", false));
      GenerationConfig config = g.greedy(8, 2);
      for (int b = 0; b < 3; b++) {
        List<int[]> prompts = new ArrayList<>();
        for (int k = 0; k < 2; k++) {
          List<String> row = t.rows().get(2 * b + k);
          prompts.add(RewriteJob.promptIds(row.get(3), row.get(1), g.codec(), g.chatTemplate()));
        }
        List<Generator.Result> direct = g.generate(prompts, config);
        for (int k = 0; k < 2; k++) {
          assertThat(t.rows().get(2 * b + k).get(2)).isEqualTo(RewrittenTextCleaner.clean(direct.get(k).text()));
        }
      }
    }
    assertThat(t.rows()).anySatisfy(r -> assertThat(r.get(2)).isNotEmpty());
    assertThat(JobState.partialFile(s.output())).doesNotExist();
    assertThat(JobState.stateFile(s.output())).doesNotExist();
    // again: the output already holds this plan, nothing is redone
    byte[] before = Files.readAllBytes(s.output());
    assertThat(RewriteJob.run(s)).isEqualTo(new RewriteJob.Result(6, 6, res.emptyRewrites()));
    assertThat(Files.readAllBytes(s.output())).isEqualTo(before);
  }

  @Test
  void aStoppedRunResumesToTheSameBytes() throws Exception {
    // sampled, so that the per-row seeds matter too
    RewriteJob.Settings ref = settings("ref.csv").withSampling(0.9, 1.0).withSeed(5).withPairs(5);
    RewriteJob.run(ref);
    RewriteJob.Settings s = ref.withOutput(dir.resolve("out.csv"));
    Path marker = dir.resolve("paused");
    Throwable thrown = org.promptrecovery4j.testsupport.PausedRun.untilPaused(
        java.util.Map.of(RewriteJob.PAUSE_AFTER_BATCHES_PROPERTY, "1", RewriteJob.PAUSE_MARKER_PROPERTY, marker.toString()), marker, () -> RewriteJob.run(s));
    assertThat(thrown).isInstanceOf(InterruptedIOException.class);
    Path partial = JobState.partialFile(s.output());
    assertThat(s.output()).doesNotExist();
    assertThat(Files.readAllLines(partial)).hasSize(2);
    // as if the kill came in the middle of appending the second batch: one whole line and part of the next
    List<String> refRows = Csv.read(ref.output()).rows().stream().map(r -> r.get(0)).toList();
    Files.writeString(partial, "{\"id\":\"" + refRows.get(2) + "\",\"rewritten_text\":\"x\"}\n{\"id\":\"" + refRows.get(3),
        StandardCharsets.UTF_8, StandardOpenOption.APPEND);

    // other settings are refused, naming the difference, and leave the partial results alone
    long size = Files.size(partial);
    assertThatThrownBy(() -> RewriteJob.run(s.withBatchSize(3))).hasMessageContaining("out.csv.partial.json")
        .hasMessageContaining("different --batch-size left its partial results here (was 2, now 3)")
        .hasMessageContaining("delete out.csv.partial.json and out.csv.partial to start over");
    assertThatThrownBy(() -> RewriteJob.run(s.withSeed(6))).hasMessageContaining("different --seed left its partial results here (was 5, now 6)");
    Path state = JobState.stateFile(s.output());
    com.fasterxml.jackson.databind.node.ObjectNode saved = (com.fasterxml.jackson.databind.node.ObjectNode)
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(state.toFile());
    assertThat(saved.get("compute").asText()).isEqualTo("float32");
    assertThatThrownBy(() -> RewriteJob.run(s.withCompute(WeightStorage.AS_STORED)))
        .hasMessageContaining("different --compute left its partial results here (was float32, now as-stored)");
    // a state from before the compute was recorded (no "compute"): float32 resumes it as before, bf16 is refused
    saved.remove("compute");
    Files.writeString(state, saved.toPrettyString());
    assertThatThrownBy(() -> RewriteJob.run(s.withCompute(WeightStorage.BF16))).hasMessage(state + ": an interrupted"
        + " run with different --compute left its partial results here (was float32, now bf16: a state from before"
        + " --compute was recorded); rerun with --compute float32 or as-stored to resume it, or delete"
        + " out.csv.partial.json and out.csv.partial to start over");
    assertThat(Files.size(partial)).isEqualTo(size);

    RewriteJob.Result r = RewriteJob.run(s); // float32, from the state without "compute"
    assertThat(r.resumedRows()).as("the whole first batch kept, the torn second one redone").isEqualTo(2);
    assertThat(r.rows()).isEqualTo(5);
    assertThat(Files.readAllBytes(s.output())).isEqualTo(Files.readAllBytes(ref.output()));
    assertThat(partial).doesNotExist();
    assertThat(JobState.stateFile(s.output())).doesNotExist();
  }

  @Test
  void sideFilesOfAnotherRunAreRefusedATornEndIsCut() throws IOException {
    RewriteJob.Settings s = settings("out.csv");
    Path partial = JobState.partialFile(s.output());
    Files.writeString(partial, "{\"id\":\"t0-p0\",\"rewritten_text\":\"a\"}\n");
    assertThatThrownBy(() -> RewriteJob.run(s)).hasMessage(partial + ": partial results without their"
        + " out.csv.partial.json: cannot tell what run they belong to; delete out.csv.partial to start over");

    RewritePlan plan = RewritePlan.crossProduct(3, 2);
    Path f = dir.resolve("p.partial");
    String line0 = "{\"id\":\"t0-p0\",\"rewritten_text\":\"a\\nb\"}\n";
    String line1 = "{\"id\":\"t0-p1\",\"rewritten_text\":\"\"}\n";
    String line2 = "{\"id\":\"t1-p0\",\"rewritten_text\":\"c\"}\n";
    Files.writeString(f, line0 + line1 + line2 + "{\"id\":\"t1-p1\",\"rewr");
    try (RewriteJob.PartialRewrites p = RewriteJob.PartialRewrites.resume(f, plan, 2)) {
      assertThat(p.records()).as("whole batches: 2 of the 3 whole lines").isEqualTo(2);
    }
    assertThat(Files.readString(f)).isEqualTo(line0 + line1);
    Files.writeString(f, line0 + line1 + line2);
    try (RewriteJob.PartialRewrites p = RewriteJob.PartialRewrites.resume(f, plan, 1)) {
      assertThat(p.records()).isEqualTo(3);
    }
    Files.writeString(f, line1 + line0);
    assertThatThrownBy(() -> RewriteJob.PartialRewrites.resume(f, plan, 2)).hasMessage(f + ": line 1 is row t0-p1, this"
        + " run puts t0-p0 there: the file does not belong to this run; delete it (and its .json) to start over");
    Files.writeString(f, line0 + "not json\n");
    assertThatThrownBy(() -> RewriteJob.PartialRewrites.resume(f, plan, 2)).hasMessage(f + ": line 2 is not a rewrite"
        + " record: the file does not belong to this run; delete it (and its .json) to start over");
    Files.writeString(f, (line0 + line1 + line2).repeat(3));
    assertThatThrownBy(() -> RewriteJob.PartialRewrites.resume(f, plan, 2)).hasMessageContaining("line 4 is row t0-p0");
  }

  @Test
  void badInputsAreNamedErrors() throws IOException {
    RewriteJob.Settings s = settings("out.csv");
    Path noColumn = dir.resolve("nocol.csv");
    Files.writeString(noColumn, "id,text\n1,hello\n");
    Path blank = dir.resolve("blank.csv");
    Files.writeString(blank, "original_text\nfine\n\" \"\n");
    assertThatThrownBy(() -> RewriteJob.run(new RewriteJob.Settings(MODEL, blank, s.prompts(), s.output(), 8, 2, 0, null,
        null, 1.0, WeightStorage.FLOAT32))).hasMessage(blank + ": row 2 (line 3): empty original_text");
    assertThatThrownBy(() -> RewriteJob.run(new RewriteJob.Settings(MODEL, noColumn, s.prompts(), s.output(), 8, 2, 0,
        null, null, 1.0, WeightStorage.FLOAT32))).hasMessageContaining(noColumn.toString())
        .hasMessageContaining("original_text");
    Path empty = dir.resolve("empty.json");
    Files.writeString(empty, "[\" \"]");
    assertThatThrownBy(() -> RewriteJob.run(new RewriteJob.Settings(MODEL, s.texts(), empty, s.output(), 8, 2, 0, null,
        null, 1.0, WeightStorage.FLOAT32))).hasMessage(empty + ": the prompt bank is empty");
    assertThatThrownBy(() -> RewriteJob.run(s.withPairs(7))).hasMessage("--pairs 7: must be between 1 and the 3 × 2 = 6"
        + " pairs there are");
    Path phi = TinyLms.FIXTURES.resolve("tiny-phi-text");
    assertThatThrownBy(() -> RewriteJob.run(new RewriteJob.Settings(phi, s.texts(), s.prompts(), s.output(), 8, 2, 0,
        null, null, 1.0, WeightStorage.FLOAT32))).hasMessage(phi + ": the tokenizer has no chat_template"
            + " (tokenizer_config.json): rewriting needs an instruct model");
    Path longText = dir.resolve("long.csv");
    Csv.write(longText, List.of("original_text"), List.of(List.of("short"), List.of("word ".repeat(100))));
    assertThatThrownBy(() -> RewriteJob.run(new RewriteJob.Settings(MODEL, longText, s.prompts(), s.output(), 8, 2, 0,
        null, null, 1.0, WeightStorage.FLOAT32))).hasMessageStartingWith("t1-p0 (" + longText + " line 3, prompt 0 of "
            + s.prompts() + "): the prompt has ").hasMessageContaining("tokens; with --max-new-tokens 8 it does not fit the model's"
            + " context of 128 tokens");
    assertThat(s.output()).doesNotExist();
  }
}
