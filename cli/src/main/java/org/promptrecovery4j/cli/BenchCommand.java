package org.promptrecovery4j.cli;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.promptrecovery4j.models.ForwardModel;
import org.promptrecovery4j.models.bench.EncoderBench;
import org.promptrecovery4j.models.nn.LinearPrecision;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench}: forward-pass timings of the encoders at real sizes with random weights. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Time forward passes of DeBERTa-v3-large- and sentence-t5-base-shaped encoders (random weights).",
      "Compare with tools/reference/bench_encoders.py (PyTorch) on the same machine and thread count.",
      "--compute bf16 times the linear layers in bf16 (bf16 weights, oneDNN's bf16 GEMM) against the float32 default."
    })
public final class BenchCommand implements Callable<Integer> {

  @Option(names = "--models", split = ",", defaultValue = "deberta-v3-large,sentence-t5-base",
      description = "deberta-v3-large, sentence-t5-base (default: both)")
  List<String> models;

  @Option(names = "--shapes", split = ",", defaultValue = "4x384,32x64", description = "BATCHxLENGTH list (default ${DEFAULT-VALUE})")
  List<String> shapes;

  @Option(names = "--warmup", defaultValue = "1")
  int warmup;

  @Option(names = "--iterations", defaultValue = "3")
  int iterations;

  @Option(names = "--compute", defaultValue = "float32",
      description = "float32 or bf16: the precision of the linear layers (default ${DEFAULT-VALUE})")
  String compute;

  @Override
  public Integer call() throws Exception {
    LinearPrecision precision = LinearPrecision.parse(compute);
    System.out.println("model,batch,length,median_ms,min_ms,iterations,compute");
    for (String name : models) {
      long t0 = System.nanoTime();
      ForwardModel m = switch (name) {
        case "deberta-v3-large" -> EncoderBench.randomDebertaV3Large(precision);
        case "sentence-t5-base" -> EncoderBench.randomSentenceT5Base(precision);
        default -> throw new IllegalArgumentException("unknown model '" + name + "' (deberta-v3-large, sentence-t5-base)");
      };
      System.err.printf(Locale.ROOT, "%s built in %.1f s%n", name, (System.nanoTime() - t0) / 1e9);
      for (String shape : shapes) {
        String[] bl = shape.toLowerCase(Locale.ROOT).split("x");
        if (bl.length != 2) {
          throw new IllegalArgumentException("shape '" + shape + "' is not BATCHxLENGTH");
        }
        EncoderBench.Result r = EncoderBench.time(name, m, Integer.parseInt(bl[0]), Integer.parseInt(bl[1]), warmup, iterations);
        System.out.printf(Locale.ROOT, "%s,%d,%d,%.1f,%.1f,%d,%s%n", r.model(), r.batch(), r.length(), r.medianMs(),
            r.minMs(), r.iterations(), precision);
      }
    }
    return 0;
  }
}
