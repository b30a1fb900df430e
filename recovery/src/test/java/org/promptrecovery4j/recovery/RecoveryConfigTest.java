package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecoveryConfigTest {

  @BeforeAll
  static void stubs() {
    StubRecoverers.register();
  }

  @Test
  void badConfigsAreNamedErrorsBeforeAnythingLoads(@TempDir Path tmp) throws Exception {
    assertThatThrownBy(() -> RecoveryConfig.parse("{\"recoverers\": [], \"x\": 1}", tmp))
        .hasMessage("(config): unknown key \"x\" (known: batch_size, clean_rewritten_text, ensemble, recoverers)");
    assertThatThrownBy(() -> RecoveryConfig.parse("{\"recoverers\": []}", tmp))
        .hasMessageContaining("\"recoverers\" must be a non-empty array");
    assertThatThrownBy(() -> RecoveryConfig.parse("{\"recoverers\": [{\"type\": \"oracle\"}]}", tmp))
        .hasMessageStartingWith("(config): recoverers[0]: unknown recoverer type \"oracle\" (known: zero-shot, nearest-examples");
    assertThatThrownBy(() -> RecoveryConfig.parse("{\"recoverers\": [{\"type\": \"zero-shot\", \"topk\": 3}]}", tmp))
        .hasMessageStartingWith("(config): recoverers[0] (zero-shot): unknown key \"topk\" (known: bank, encoder,");
    assertThatThrownBy(() -> RecoveryConfig.parse("{\"recoverers\": [{\"type\": \"nearest-examples\", \"examples\":"
        + " \"train.csv\"}]}", tmp)).hasMessage("(config): recoverers[0]: \"examples\": " + tmp.resolve("train.csv")
        + " does not exist");
    assertThatThrownBy(() -> RecoveryConfig.parse("{\"recoverers\": [{\"type\": \"zero-shot\", \"encoder\": \"models/st5\"}]}", tmp))
        .hasMessageContaining("\"encoder\": " + tmp.resolve("models/st5") + " does not exist");
    assertThatThrownBy(() -> RecoveryConfig.parse("{\"recoverers\": [{\"type\": \"zero-shot\"}], \"batch_size\": 0}", tmp))
        .hasMessage("(config): \"batch_size\" must be an integer in [1, 4096], is 0");
    assertThatThrownBy(() -> RecoveryConfig.parse("{\"recoverers\": [{\"type\": \"zero-shot\"}], \"ensemble\": {\"fallback\": \" \"}}", tmp))
        .hasMessageContaining("fallback prompt must not be blank");
    assertThatThrownBy(() -> RecoveryConfig.parse("{\"recoverers\": [{\"type\": \"zero-shot\"}], \"ensemble\": {\"sep\": \" \"}}", tmp))
        .hasMessageStartingWith("(config): ensemble: unknown key \"sep\"");
    assertThatThrownBy(() -> RecoveryConfig.parse("{\"recoverers\": [{\"type\": \"zero-shot\",", tmp))
        .hasMessageStartingWith("(config): not valid JSON");
    Path f = tmp.resolve("c.json");
    Files.writeString(f, "[1]");
    assertThatThrownBy(() -> RecoveryConfig.read(f)).hasMessage(f + ": expected a JSON object");
    assertThatThrownBy(() -> RecoveryConfig.read(tmp.resolve("none.json"))).hasMessageContaining("no such config file");
  }

  @Test
  void pathsResolveAgainstTheConfigsFolderAndNamesAreKept(@TempDir Path tmp) throws Exception {
    Files.createDirectories(tmp.resolve("conf"));
    Files.writeString(tmp.resolve("conf/bank.txt"), "Make it shorter.\n");
    Path f = tmp.resolve("conf/recovery.json");
    Files.writeString(f, "{\"recoverers\": [{\"type\": \"test-first-word\", \"name\": \"first\", \"prefix\": \"Use\"}],"
        + " \"ensemble\": {\"append\": \"Improve it.\"}, \"clean_rewritten_text\": true, \"batch_size\": 3}");
    RecoveryConfig c = RecoveryConfig.read(f);
    assertThat(c.batchSize()).isEqualTo(3);
    assertThat(c.cleanRewrittenText()).isTrue();
    try (EnsembleRecoverer e = c.build()) {
      assertThat(e.members()).extracting(PromptRecoverer::name).containsExactly("first");
      assertThat(e.recover(ZeroShotRecovererTest.row("r", "a", "Hello there"))).isEqualTo("Use Hello Improve it.");
    }
    assertThat(c.resolve("bank.txt")).isEqualTo(tmp.resolve("conf/bank.txt"));
  }
}
