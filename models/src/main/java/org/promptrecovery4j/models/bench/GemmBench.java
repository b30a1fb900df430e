package org.promptrecovery4j.models.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The matrix products of our models, alone: {@code y = x Wᵀ} for an HF linear weight W {@code [out, in]}, x
 * {@code [M, in]}, at the shapes of phi-2 and Mistral-7B (q/k/v, MLP in and out, logits) and at M = 1 and 16
 * (decode steps at batch 1 and 16) and 512 (a prefill), through {@code Nd4j.matmul} into a preallocated row-major
 * output, which is what SameDiff's {@code mmul} runs. Two weight layouts: HF's {@code [out, in]} multiplied
 * transposed ({@code out-in-transposed}), and {@code [in, out]} row-major ({@code in-out}, what the decoders hold
 * since issue 12); also {@code packed-onednn3}: the weight packed for oneDNN 3.3 and multiplied as the decoders' linear
 * layers do ({@link org.promptrecovery4j.models.nn.OneDnn#multiply}: float32 in and out, for bf16 the casts included). With the oneDNN natives,
 * float32 and bf16 products run in oneDNN; without ND4J's helpers ({@code helpers=false}) float32 runs in the BLAS
 * ({@code -Dorg.bytedeco.openblas.load}: MKL or OpenBLAS). tools/reference/bench_gemm.py times torch's
 * {@code F.linear} on the same shapes.
 */
public final class GemmBench {

  /** {in, out} of the linear layers timed. */
  public static final int[][] SHAPES = {{2560, 7680}, {2560, 10240}, {10240, 2560}, {4096, 6144}, {4096, 28672},
    {14336, 4096}, {2560, 51200}};

  public static final int[] ROWS = {1, 16, 512};

  /** The median time of one product. */
  public record Result(String dtype, String layout, boolean helpers, int in, int out, int rows, double medianMs) {}

  private GemmBench() {}

  /** {@link #run(DataType, boolean, int, int[][], int[])} at {@link #SHAPES} × {@link #ROWS}. */
  public static List<Result> run(DataType dtype, boolean helpers, int repeats) {
    return run(dtype, helpers, repeats, SHAPES, ROWS);
  }

  /**
   * Times every {in, out} shape × rows for {@code dtype} (FLOAT or BFLOAT16) and both layouts (products of 512 rows by
   * more than 20,000 outputs are skipped), and checks that both layouts give the same product (max |diff| within
   * float32 rounding, or one bf16 step of the largest value for bf16).
   */
  public static List<Result> run(DataType dtype, boolean helpers, int repeats, int[][] shapes, int[] rows) {
    boolean before = Nd4j.getEnvironment().helpersAllowed();
    Nd4j.getEnvironment().allowHelpers(helpers);
    List<Result> out = new ArrayList<>();
    try {
      for (int[] s : shapes) {
        int in = s[0];
        int n = s[1];
        try (INDArray hf = Nd4j.rand(DataType.FLOAT, n, in).subi(0.5).castTo(dtype);
            INDArray inOut = hf.transpose().dup('c')) {
          for (int m : rows) {
            if (m == 512 && n > 20000) {
              continue;
            }
            try (INDArray x = Nd4j.rand(DataType.FLOAT, m, in).castTo(dtype); INDArray y = Nd4j.create(dtype, m, n)) {
              int reps = m == 512 ? Math.max(3, repeats / 3) : repeats;
              out.add(new Result(name(dtype), "out-in-transposed", helpers, in, n, m,
                  median(() -> Nd4j.matmul(x, hf, y, false, true, false), reps)));
              INDArray transposed = dtype == DataType.FLOAT ? y.dup() : y.castTo(DataType.FLOAT); // a copy: y is reused
              out.add(new Result(name(dtype), "in-out", helpers, in, n, m,
                  median(() -> Nd4j.matmul(x, inOut, y, false, false, false), reps)));
              double scale = transposed.amaxNumber().doubleValue();
              double diff = transposed.subi(y.castTo(DataType.FLOAT)).amaxNumber().doubleValue();
              double tol = dtype == DataType.BFLOAT16 ? scale / 128 : 1e-4 * Math.max(1, scale);
              if (diff > tol) {
                throw new IllegalStateException(String.format(java.util.Locale.ROOT,
                    "%s %dx%d by %d rows: the two layouts differ by %.3g (largest value %.3g)", name(dtype), in, n, m, diff, scale));
              }
              transposed.close();
              if (helpers && (dtype == DataType.BFLOAT16 ? org.promptrecovery4j.models.nn.OneDnn.available()
                  : org.promptrecovery4j.models.nn.OneDnn.loaded())) {
                // what a linear layer costs on oneDNN 3.3's packed weight: float32 in and out (bf16: casts included)
                org.promptrecovery4j.models.nn.OneDnn.PackedWeight p = org.promptrecovery4j.models.nn.OneDnn.pack(inOut);
                try (INDArray xf = dtype == DataType.FLOAT ? x.dup() : x.castTo(DataType.FLOAT); INDArray yf = Nd4j.create(DataType.FLOAT, m, n)) {
                  out.add(new Result(name(dtype), "packed-onednn3", helpers, in, n, m,
                      median(() -> org.promptrecovery4j.models.nn.OneDnn.multiply(xf, p, yf), reps)));
                  double d = yf.sub(y.castTo(DataType.FLOAT)).amaxNumber().doubleValue();
                  if (d > tol) {
                    throw new IllegalStateException(String.format(java.util.Locale.ROOT,
                        "%s %dx%d by %d rows: the packed product differs by %.3g (largest value %.3g)", name(dtype), in, n, m, d, scale));
                  }
                } finally {
                  p.array().close();
                }
              }
            }
          }
        }
      }
    } finally {
      Nd4j.getEnvironment().allowHelpers(before);
    }
    return out;
  }

  static String name(DataType d) {
    return d == DataType.BFLOAT16 ? "bf16" : "float32";
  }

  private static double median(Runnable r, int reps) {
    for (int i = 0; i < 2; i++) {
      r.run();
    }
    double[] t = new double[reps];
    for (int i = 0; i < reps; i++) {
      long s = System.nanoTime();
      r.run();
      t[i] = (System.nanoTime() - s) / 1e6;
    }
    Arrays.sort(t);
    return t[reps / 2];
  }
}
