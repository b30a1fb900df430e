package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;

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

  @Test
  void theLlmRecoverersComputeKeyWithTheOldKeepDtypeIsCheckedBeforeAnythingLoads(@TempDir Path tmp) throws Exception {
    Files.createDirectories(tmp.resolve("base"));
    Files.createDirectories(tmp.resolve("adapter"));
    Files.writeString(tmp.resolve("examples.csv"), "id,original_text,rewritten_text,rewrite_prompt\n");
    String lora = "{\"type\": \"lora\", \"model\": \"base\", \"adapter\": \"adapter\"";
    String fewShot = "{\"type\": \"few-shot\", \"model\": \"base\", \"examples\": \"examples.csv\"";
    for (String entry : new String[] {lora, fewShot}) {
      assertThat(compute(tmp, entry + "}")).isEqualTo(WeightStorage.FLOAT32);
      assertThat(compute(tmp, entry + ", \"compute\": \"bf16\"}")).isEqualTo(WeightStorage.BF16);
      assertThat(compute(tmp, entry + ", \"compute\": \"as-stored\"}")).isEqualTo(WeightStorage.AS_STORED);
      assertThat(compute(tmp, entry + ", \"compute\": \"float32\"}")).isEqualTo(WeightStorage.FLOAT32);
      assertThat(compute(tmp, entry + ", \"keep_dtype\": true}")).isEqualTo(WeightStorage.AS_STORED);
      assertThat(compute(tmp, entry + ", \"keep_dtype\": false}")).isEqualTo(WeightStorage.FLOAT32);
      assertThat(compute(tmp, entry + ", \"keep_dtype\": true, \"compute\": \"as-stored\"}"))
          .isEqualTo(WeightStorage.AS_STORED);
      assertThat(compute(tmp, entry + ", \"keep_dtype\": false, \"compute\": \"bf16\"}")).isEqualTo(WeightStorage.BF16);
      // errors when the config is read: RecoveryConfig.parse loads nothing (the folders above are empty)
      assertThatThrownBy(() -> config(tmp, entry + ", \"keep_dtype\": true, \"compute\": \"bf16\"}"))
          .hasMessage("(config): recoverers[0]: \"keep_dtype\": true disagrees with \"compute\": \"bf16\" (\"keep_dtype\":"
              + " true is the old spelling of \"compute\": \"as-stored\"); give only \"compute\"");
      assertThatThrownBy(() -> config(tmp, entry + ", \"keep_dtype\": false, \"compute\": \"as-stored\"}"))
          .hasMessageStartingWith("(config): recoverers[0]: \"keep_dtype\": false disagrees with \"compute\":"
              + " \"as-stored\"");
      assertThatThrownBy(() -> config(tmp, entry + ", \"compute\": \"fp16\"}"))
          .hasMessage("(config): recoverers[0]: \"compute\" 'fp16' is not one of float32, bf16, as-stored");
      assertThatThrownBy(() -> config(tmp, entry + ", \"compute\": 16}"))
          .hasMessage("(config): recoverers[0]: \"compute\" must be a string, is 16");
      assertThatThrownBy(() -> config(tmp, entry + ", \"keep_dtype\": \"yes\"}"))
          .hasMessage("(config): recoverers[0]: \"keep_dtype\" must be true or false, is \"yes\"");
    }
  }

  private static RecoveryConfig config(Path tmp, String entry) {
    return RecoveryConfig.parse("{\"recoverers\": [" + entry + "]}", tmp);
  }

  /** The storage an entry asks for, as its factory reads it (after the read-time check passed). */
  private static WeightStorage compute(Path tmp, String entry) throws Exception {
    RecoveryConfig c = config(tmp, entry);
    JsonNode node = new ObjectMapper().readTree(entry);
    return RecovererTypes.compute(c.new Spec(node, "(config): recoverers[0]"));
  }
}
