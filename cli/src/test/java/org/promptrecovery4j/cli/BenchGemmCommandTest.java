package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code bench-gemm}'s options (the timings run real-size products: GemmBenchTest checks the bench itself on small shapes). */
class BenchGemmCommandTest {

  @Test
  void badOptionsAreOneLineErrorsBeforeAnythingRuns() {
    CliRunner r = CliRunner.run("bench-gemm", "--dtypes", "float32,fp8");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err().strip()).isEqualTo("error: unknown --dtypes value 'fp8' (float32, bf16)");
    assertThat(r.out()).isEmpty();
    r = CliRunner.run("bench-gemm", "--repeats", "0");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err().strip()).isEqualTo("error: --repeats must be at least 1, not 0");
  }
}
