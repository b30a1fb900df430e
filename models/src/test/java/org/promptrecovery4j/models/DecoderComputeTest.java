package org.promptrecovery4j.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;

class DecoderComputeTest {

  @Test
  void oneNameEachParsedBackAnythingElseNamesTheOptionAndTheNames() {
    assertThat(DecoderCompute.name(WeightStorage.FLOAT32)).isEqualTo("float32");
    assertThat(DecoderCompute.name(WeightStorage.BF16)).isEqualTo("bf16");
    assertThat(DecoderCompute.name(WeightStorage.AS_STORED)).isEqualTo("as-stored");
    for (WeightStorage s : WeightStorage.values()) {
      assertThat(DecoderCompute.parse(DecoderCompute.name(s), "--compute")).isEqualTo(s);
    }
    assertThat(DecoderCompute.parse(" BF16 ", "--compute")).isEqualTo(WeightStorage.BF16);
    assertThatThrownBy(() -> DecoderCompute.parse("as_stored", "--compute"))
        .hasMessage("--compute 'as_stored' is not one of float32, bf16, as-stored");
    assertThatThrownBy(() -> DecoderCompute.parse(null, "\"compute\""))
        .hasMessage("\"compute\" 'null' is not one of float32, bf16, as-stored");
  }
}
