package org.promptrecovery4j.recovery;

import java.util.List;
import java.util.Set;

/** Test recoverers registered under {@code test-*} types: cheap, deterministic, and failing on demand. */
final class StubRecoverers {

  private StubRecoverers() {}

  /** "Make it <first word of the rewritten text>"; a row whose id contains "boom" throws; "blank" answers "". */
  static final class FirstWord implements PromptRecoverer {
    final String prefix;

    FirstWord(String prefix) {
      this.prefix = prefix;
    }

    @Override
    public String name() {
      return "test-first-word";
    }

    @Override
    public List<String> recoverAll(List<KaggleRow> rows) {
      return rows.stream().map(r -> {
        if (r.id().contains("boom")) {
          throw new IllegalStateException("boom in row " + r.id());
        }
        return r.id().contains("blank") ? "" : prefix + " " + r.rewrittenText().strip().split("\\s+")[0];
      }).toList();
    }
  }

  static void register() {
    RecovererTypes.register(new RecovererTypes.Type("test-first-word", Set.of("prefix"), Set.of(),
        (s, ctx) -> new FirstWord(s.text("prefix", "Make it"))));
  }
}
