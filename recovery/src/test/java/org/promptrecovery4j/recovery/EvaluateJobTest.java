package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.evaluation.SharpenedCosine;
import org.promptrecovery4j.models.builtin.BuiltinModels;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;

class EvaluateJobTest {

  @BeforeAll
  static void stubs() {
    StubRecoverers.register();
  }

  @Test
  void scoresEveryRecovererAndTheEnsembleRowByRow(@TempDir Path tmp) throws Exception {
    Path in = tmp.resolve("labelled.csv");
    Files.writeString(in, "id,original_text,rewritten_text,rewrite_prompt\n"
        + "a,x,Formal text,Make it formal\nb,y,Shorter,Make it shorter\nblank1,z,Poem,Write a poem\n");
    Path cfg = tmp.resolve("c.json");
    Files.writeString(cfg, "{\"recoverers\": [{\"type\": \"test-first-word\", \"name\": \"first\"},"
        + " {\"type\": \"test-first-word\", \"name\": \"second\", \"prefix\": \"Turn into\"}], \"batch_size\": 2}");
    SentenceEmbedder scorer = BuiltinModels.allMiniLmL6V2().memoize(1000);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Path out = tmp.resolve("eval.csv");
    EvaluateJob.Result r = EvaluateJob.run(in, out, RecoveryConfig.read(cfg), scorer, "all-MiniLM-L6-v2",
        new PrintStream(log, true));
    assertThat(r.names()).containsExactly("first", "second", "ensemble");
    Csv.Table t = Csv.read(out);
    assertThat(t.header()).containsExactly("id", "rewrite_prompt", "first", "first_score", "second", "second_score",
        "ensemble", "ensemble_score");
    assertThat(t.rows().get(0).subList(0, 3)).containsExactly("a", "Make it formal", "Make it Formal");
    assertThat(t.rows().get(0).get(6)).isEqualTo("Make it Formal Turn into Formal");
    float[][] e = scorer.embed(java.util.List.of("Make it Formal", "Make it formal"));
    assertThat(r.scores().get("first")[0]).isCloseTo(SharpenedCosine.score(e[0], e[1], 3),
        org.assertj.core.data.Offset.offset(1e-6));
    assertThat(r.scores().get("first")[2]).isZero(); // a blank answer scores 0
    assertThat(t.rows().get(2).get(6)).isEqualTo("Rewrite this text."); // the ensemble's fallback
    assertThat(log.toString(StandardCharsets.UTF_8)).contains("evaluate: ensemble").contains("scored with all-MiniLM-L6-v2"
        + " (a PROXY: the competition's metric embeds with sentence-t5-base)");
    Path unlabelled = tmp.resolve("test.csv");
    Files.writeString(unlabelled, "id,original_text,rewritten_text\na,x,y\n");
    assertThatThrownBy(() -> EvaluateJob.run(unlabelled, out, RecoveryConfig.read(cfg), scorer, "x",
        new PrintStream(new ByteArrayOutputStream()))).hasMessageContaining("needs labelled rows");
    Files.writeString(cfg, "{\"recoverers\": [{\"type\": \"test-first-word\"}, {\"type\": \"test-first-word\"}]}");
    assertThatThrownBy(() -> RecoveryConfig.read(cfg)).hasMessageContaining("a second recoverer named \"test-first-word\"");
  }
}
