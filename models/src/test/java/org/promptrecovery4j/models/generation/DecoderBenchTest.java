package org.promptrecovery4j.models.generation;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.promptrecovery4j.models.DecoderCompute;
import org.promptrecovery4j.models.bench.DecoderBench;

/**
 * The Maven route to {@link DecoderBench} (the CLI's is {@code prompt-recovery bench-decoder}). Runs only when
 * {@code -Dpr4j.bench.model=DIR} is given; prints one JSON line, asserts nothing. Options:
 * {@code -Dpr4j.bench.compute=float32|bf16|as-stored}, {@code -Dpr4j.bench.runs=3},
 * {@code -Dpr4j.bench.only=all|phases|memory}, {@code -Dpr4j.bench.minutes=M} (the RSS-over-time run).
 */
class DecoderBenchTest {

  @Test
  void bench() throws Exception {
    String dir = System.getProperty("pr4j.bench.model", "");
    Assumptions.assumeTrue(!dir.isEmpty(), "benchmark: give -Dpr4j.bench.model=DIR");
    String only = System.getProperty("pr4j.bench.only", "all");
    String minutes = System.getProperty("pr4j.bench.minutes", only.equals("memory") ? "30" : "");
    try (DecoderBench bench = DecoderBench.load(Path.of(dir),
        DecoderCompute.parse(System.getProperty("pr4j.bench.compute", "float32"), "pr4j.bench.compute"), System.err)) {
      Object main = switch (only) {
        case "all" -> bench.speed(Integer.getInteger("pr4j.bench.runs", 3), Integer.getInteger("pr4j.bench.warmup", 2));
        case "phases" -> bench.phases();
        case "memory" -> null;
        default -> throw new IllegalArgumentException("pr4j.bench.only: all, phases or memory, not " + only);
      };
      Object memory = minutes.isEmpty() ? null : bench.memory(
          Duration.ofMillis((long) (Double.parseDouble(minutes) * 60_000)), Duration.ofSeconds(5), 1);
      System.out.println("BENCH " + bench.report(main, memory));
    }
  }
}
