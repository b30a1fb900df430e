package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.evaluation.Submission;

class PredictJobTest {

  static final String CONFIG = "{\"recoverers\": [{\"type\": \"test-first-word\"}], \"batch_size\": 2,"
      + " \"ensemble\": {\"fallback\": \"Rewrite the text.\"}}";

  @BeforeAll
  static void stubs() {
    StubRecoverers.register();
  }

  static Path input(Path dir) throws Exception {
    Path in = dir.resolve("test.csv");
    Files.writeString(in, "id,original_text,rewritten_text\n"
        + "r1,a,\"Formal words\"\nr2,b,Casual\nboom3,c,Pirate\nr4,d,\"Poem\nin lines\"\nblank5,e,Tweet\n");
    return in;
  }

  @Test
  void everyRowOnceInInputOrderFailuresGetTheFallback(@TempDir Path tmp) throws Exception {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Path out = tmp.resolve("sub.csv");
    PredictJob.Result r = PredictJob.run(input(tmp), out, RecoveryConfig.parse(CONFIG, tmp), new PrintStream(log, true));
    assertThat(r.rows()).isEqualTo(5);
    assertThat(r.failed()).isEqualTo(1);
    assertThat(Submission.read(out)).containsExactly(new Submission.Row("r1", "Make it Formal"),
        new Submission.Row("r2", "Make it Casual"), new Submission.Row("boom3", "Rewrite the text."),
        new Submission.Row("r4", "Make it Poem"), new Submission.Row("blank5", "Rewrite the text."));
    assertThat(log.toString(StandardCharsets.UTF_8)).contains("predict: row boom3 (line 4) failed, fallback prompt used:"
        + " IllegalStateException: boom in row boom3").contains("1 rows failed and got the fallback prompt");
    assertThat(tmp.resolve("sub.csv.partial")).doesNotExist();
  }

  @Test
  void resumesFromWholeLinesOfAPartialFileAndCutsATornOne(@TempDir Path tmp) throws Exception {
    Path in = input(tmp);
    RecoveryConfig c = RecoveryConfig.parse(CONFIG, tmp);
    Path out = tmp.resolve("sub.csv");
    // what a run killed in the middle of its second append leaves: 2 whole rows and a torn third
    Files.writeString(tmp.resolve("sub.csv.partial"), PredictJob.identity(in, c) + "\n"
        + "{\"id\":\"r1\",\"prompt\":\"from the first run\"}\n{\"id\":\"r2\",\"prompt\":\"also earlier\"}\n{\"id\":\"boo");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PredictJob.Result r = PredictJob.run(in, out, c, new PrintStream(log, true));
    assertThat(r.resumed()).isEqualTo(2);
    assertThat(log.toString(StandardCharsets.UTF_8)).contains("2 of 5 rows already done");
    List<Submission.Row> rows = Submission.read(out);
    assertThat(rows).extracting(Submission.Row::id).containsExactly("r1", "r2", "boom3", "r4", "blank5");
    assertThat(rows.get(0).prompt()).isEqualTo("from the first run");
    assertThat(rows.get(3).prompt()).isEqualTo("Make it Poem");
  }

  @Test
  void aPartialFileOfAnotherJobIsRefused(@TempDir Path tmp) throws Exception {
    Path in = input(tmp);
    Files.writeString(tmp.resolve("sub.csv.partial"), "{\"job\":\"predict\",\"input_sha256\":\"00\"}\n");
    assertThatThrownBy(() -> PredictJob.run(in, tmp.resolve("sub.csv"), RecoveryConfig.parse(CONFIG, tmp),
        new PrintStream(new ByteArrayOutputStream()))).hasMessageContaining("holds an unfinished run of another job");
    assertThat(tmp.resolve("sub.csv")).doesNotExist();
  }
}
