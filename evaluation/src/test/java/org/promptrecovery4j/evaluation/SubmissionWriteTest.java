package org.promptrecovery4j.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SubmissionWriteTest {

  @TempDir Path dir;

  @Test
  void writesTheHeaderAndQuotesAsRfc4180() throws Exception {
    Path f = dir.resolve("submission.csv");
    Submission.write(f, List.of(new Submission.Row("a1", "Make it formal, please"), new Submission.Row("b2", "Say \"hi\""),
        new Submission.Row("c3", "Two\nlines"), new Submission.Row("d4", "Plain")));
    assertThat(Files.readString(f)).isEqualTo("id,rewrite_prompt\na1,\"Make it formal, please\"\nb2,\"Say \"\"hi\"\"\"\n"
        + "c3,\"Two\nlines\"\nd4,Plain\n");
    assertThat(Submission.read(f)).containsExactly(new Submission.Row("a1", "Make it formal, please"),
        new Submission.Row("b2", "Say \"hi\""), new Submission.Row("c3", "Two\nlines"), new Submission.Row("d4", "Plain"));
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactly(f); // no temporary file left beside it
    }
  }

  @Test
  void refusesABlankPromptAndLeavesTheOldFileAsItWas() throws Exception {
    Path f = dir.resolve("submission.csv");
    Files.writeString(f, "old");
    for (String blank : new String[] {"", "   ", "\u00a0", "\u0085\t", "\u3000"}) { // Python's whitespace, too
      assertThatThrownBy(() -> Submission.write(f, List.of(new Submission.Row("1", "ok prompt"), new Submission.Row("2", blank))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(f + ": row 2 (id '2'): blank rewrite_prompt; a submission needs a prompt on every row");
    }
    assertThat(Files.readString(f)).isEqualTo("old");
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactly(f);
    }
  }

  @Test
  void refusesEmptyAndDuplicateIds() {
    Path f = dir.resolve("s.csv");
    assertThatThrownBy(() -> Submission.write(f, List.of(new Submission.Row("", "p q"))))
        .hasMessage(f + ": row 1: empty id");
    assertThatThrownBy(() -> Submission.write(f, List.of(new Submission.Row("x", "p q"), new Submission.Row("y", "p q"),
        new Submission.Row("x", "r s")))).hasMessage(f + ": row 3: duplicate id 'x' (first at row 1)");
    assertThat(f).doesNotExist();
  }
}
