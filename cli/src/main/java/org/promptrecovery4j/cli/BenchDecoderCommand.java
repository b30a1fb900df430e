package org.promptrecovery4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.promptrecovery4j.core.AtomicFiles;
import org.promptrecovery4j.models.DecoderCompute;
import org.promptrecovery4j.models.bench.DecoderBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench-decoder}: a causal LM's prefill and decode speed and its memory, as bench_decoders.py measures them. */
@Command(
    name = "bench-decoder",
    mixinStandardHelpOptions = true,
    description = {
      "Time a causal LM's forward with a KV cache on random ids: prefill of 64 and 512 tokens at batch 1, decode",
      "tokens/s at batch 1 and 16 (cache of a 64-token prompt), peak RSS. Compare with",
      "tools/reference/bench_decoders.py torch DIR on the same idle machine and thread count.",
      "--only phases: RSS after load, a 64-token prefill and each of 16 decode steps.",
      "--only memory (or --minutes with the others): RSS every --sample-seconds over a generation of --minutes.",
      "Prints the JSON on stdout (and writes it to --output); progress on stderr."
    })
public final class BenchDecoderCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "HF causal LM folder (phi, mistral, llama, gemma) or llama2.c file")
  Path model;

  @Option(names = "--compute", defaultValue = "float32",
      description = "float32 (weights upcast at load), bf16 (bf16 GEMMs) or as-stored (default ${DEFAULT-VALUE})")
  String compute;

  @Option(names = "--output", description = "also write the JSON here")
  Path output;

  @Option(names = "--runs", defaultValue = "3", description = "prefill runs, the median kept (default ${DEFAULT-VALUE})")
  int runs;

  @Option(names = "--warmup", defaultValue = "2", description = "untimed rounds of the four measurements first, each "
      + "logged (the first is the cold start); bench_decoders.py's --warmup (default ${DEFAULT-VALUE})")
  int warmup;

  @Option(names = "--only", defaultValue = "all", description = "all, phases or memory (default ${DEFAULT-VALUE})")
  String only;

  @Option(names = "--minutes", description = "length of the RSS-over-time generation run (default 30 with --only memory)")
  Double minutes;

  @Option(names = "--sample-seconds", defaultValue = "5", description = "RSS reading interval of that run (default ${DEFAULT-VALUE})")
  double sampleSeconds;

  @Override
  public Integer call() throws Exception {
    var storage = DecoderCompute.parse(compute, "--compute");
    if (!only.equals("all") && !only.equals("phases") && !only.equals("memory")) {
      throw new IllegalArgumentException("--only '" + only + "' is not one of all, phases, memory");
    }
    Double length = minutes != null ? minutes : only.equals("memory") ? Double.valueOf(30) : null;
    if (length != null && !(length > 0) || !(sampleSeconds > 0) || runs < 1 || warmup < 0) {
      throw new IllegalArgumentException("--minutes and --sample-seconds must be > 0, --runs >= 1, --warmup >= 0");
    }
    try (DecoderBench bench = DecoderBench.load(model, storage, System.err)) {
      Object main = switch (only) {
        case "all" -> bench.speed(runs, warmup);
        case "phases" -> bench.phases();
        default -> null;
      };
      Object memory = length == null ? null : bench.memory(Duration.ofMillis(Math.round(length * 60_000)),
          Duration.ofMillis(Math.round(sampleSeconds * 1000)), 1);
      ObjectNode report = bench.report(main, memory);
      String json = new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(report);
      if (output != null) {
        byte[] bytes = (json + "\n").getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(output, stream -> stream.write(bytes));
        System.err.println("wrote " + output);
      }
      System.out.println(json);
    }
    return 0;
  }
}
