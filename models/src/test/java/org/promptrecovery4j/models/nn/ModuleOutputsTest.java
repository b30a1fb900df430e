package org.promptrecovery4j.models.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

/** The capture patterns (the same as tools/reference/dump_activations.py's) and the registry's rules. */
class ModuleOutputsTest {

  private static ModuleOutputs registry(String prefix, String... names) {
    SameDiff sd = SameDiff.create();
    ModuleOutputs m = new ModuleOutputs(prefix);
    for (String n : names) {
      m.put(n, sd.placeHolder(n.replace('.', '_'), DataType.FLOAT, -1));
    }
    return m;
  }

  private static final String[] DECODER = {"model.embed_tokens", "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn",
    "model.layers.0.mlp", "model.layers.0", "model.layers.10.mlp", "model.layers.10", "model.norm", "lm_head"};

  @Test
  void starMatchesWithinOneNameComponentAndDoubleStarAcrossThem() {
    ModuleOutputs m = registry("", DECODER);
    assertThat(m.select(List.of("model.layers.*")).keySet()).containsExactly("model.layers.0", "model.layers.10");
    assertThat(m.select(List.of("model.layers.*.mlp")).keySet()).containsExactly("model.layers.0.mlp", "model.layers.10.mlp");
    assertThat(m.select(List.of("model.layers.?")).keySet()).containsExactly("model.layers.0");
    assertThat(m.select(List.of("model.layers.0.**")).keySet())
        .containsExactly("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn", "model.layers.0.mlp");
    assertThat(m.select(List.of("**"))).hasSize(DECODER.length);
    assertThat(m.select(List.of("lm_head", "model.norm")).keySet()).containsExactly("model.norm", "lm_head"); // model order
    assertThat(m.select(List.of(" ", ""))).isEmpty();
  }

  @Test
  void otherCharactersAreLiteral() {
    ModuleOutputs m = registry("", "a.b", "axb", "a+b", "a.b.c");
    assertThat(m.select(List.of("a.b")).keySet()).containsExactly("a.b");
    assertThat(m.select(List.of("a+b")).keySet()).containsExactly("a+b");
    assertThat(ModuleOutputs.glob("[a].(b)").matcher("[a].(b)").matches()).isTrue();
  }

  @Test
  void aPatternNothingMatchesIsAnErrorNamingCloseNames() {
    ModuleOutputs m = registry("", DECODER);
    assertThatThrownBy(() -> m.select(List.of("model.layers.*", "model.layer.0.mlp")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("no module matches 'model.layer.0.mlp'; close matches: model.layers.0.mlp,")
        .hasMessageContaining("--list-modules");
  }

  @Test
  void theTaskModelPrefixIsDroppedFromNamesAndPatterns() {
    ModuleOutputs m = registry("deberta.", "deberta.embeddings", "deberta.encoder.layer.0", "encoder.layer.1");
    assertThat(m.names()).containsExactly("embeddings", "encoder.layer.0", "encoder.layer.1");
    assertThat(m.select(List.of("deberta.encoder.layer.*")).keySet()).containsExactly("encoder.layer.0", "encoder.layer.1");
  }

  @Test
  void theFirstRegistrationOfANameCounts() {
    SameDiff sd = SameDiff.create();
    ModuleOutputs m = new ModuleOutputs("");
    SDVariable first = sd.placeHolder("first", DataType.FLOAT, -1);
    m.put("encoder.layer.0.attention.self.query_proj", first);
    m.put("encoder.layer.0.attention.self.query_proj", sd.placeHolder("second", DataType.FLOAT, -1));
    assertThat(m.select(List.of("**"))).containsEntry("encoder.layer.0.attention.self.query_proj", "first");
  }
}
