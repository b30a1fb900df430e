package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code bench}'s options (the timings themselves build real-size models: not a unit test). */
class BenchCommandTest {

  @Test
  void anUnknownComputePrecisionIsAOneLineErrorBeforeAnythingIsBuilt() {
    CliRunner r = CliRunner.run("bench", "--models", "deberta-v3-large", "--compute", "int8");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err().strip()).isEqualTo("error: unknown compute precision 'int8' (float32, bf16)");
    assertThat(r.out()).isEmpty();
    r = CliRunner.run("bench", "--help");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).contains("--compute").contains("float32 or bf16");
  }
}
