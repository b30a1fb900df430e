package org.promptrecovery4j.cli;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.promptrecovery4j.core.NativeBackend;
import org.promptrecovery4j.models.bench.GemmBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench-gemm}: the models' matrix products alone, per layout, dtype and library. */
@Command(
    name = "bench-gemm",
    mixinStandardHelpOptions = true,
    description = {
      "Time y = x·Wᵀ at phi-2 / Mistral-7B linear shapes for 1, 16 and 512 rows (CSV on stdout), in both weight",
      "layouts (out-in-transposed: HF's [out, in]; in-out: [in, out] row-major), with ND4J's oneDNN helpers on",
      "and off. Compare with tools/reference/bench_gemm.py (PyTorch) on the same idle machine; the memory read",
      "bandwidth that bounds 1-row products: tools/bench/read_bandwidth.c."
    })
public final class BenchGemmCommand implements Callable<Integer> {

  @Option(names = "--dtypes", split = ",", defaultValue = "float32,bf16", description = "float32, bf16 (default both)")
  List<String> dtypes;

  @Option(names = "--repeats", defaultValue = "9", description = "timed products per shape (median; default ${DEFAULT-VALUE})")
  int repeats;

  @Override
  public Integer call() {
    if (repeats < 1) {
      throw new IllegalArgumentException("--repeats must be at least 1, not " + repeats);
    }
    for (String d : dtypes) {
      if (!d.equals("float32") && !d.equals("bf16")) {
        throw new IllegalArgumentException("unknown --dtypes value '" + d + "' (float32, bf16)");
      }
    }
    System.err.println(NativeBackend.describe());
    String blas = System.getProperty("org.bytedeco.openblas.load", "openblas");
    System.out.println("dtype,layout,helpers,in,out,rows,median_ms");
    for (String d : dtypes) {
      DataType dt = d.equals("bf16") ? DataType.BFLOAT16 : DataType.FLOAT;
      // bf16 products exist only in oneDNN's helper: without it ND4J's generic loops take seconds
      for (boolean helpers : d.equals("bf16") ? new boolean[] {true} : new boolean[] {true, false}) {
        for (GemmBench.Result r : GemmBench.run(dt, helpers, repeats)) {
          System.out.printf(Locale.ROOT, "%s,%s,%s,%d,%d,%d,%.3f%n", r.dtype(), r.layout(), r.helpers() ? "onednn" : blas,
              r.in(), r.out(), r.rows(), r.medianMs());
        }
      }
    }
    return 0;
  }
}
