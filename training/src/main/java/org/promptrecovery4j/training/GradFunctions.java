package org.promptrecovery4j.training;

import org.nd4j.autodiff.samediff.SameDiff;

/**
 * SameDiff's gradient function, built once per graph without its console noise: M2.1 prints "Added differentiated
 * op X" with {@code System.out.println} for every op, unconditionally (hundreds of lines for a decoder), which would
 * corrupt a command's standard output.
 */
public final class GradFunctions {

  private GradFunctions() {}

  /**
   * {@code sd.createGradFunction()} with standard output silenced, unless the graph has one already. Standard output
   * is swapped for the moment this takes; other threads' output in that window is lost.
   */
  public static void ensure(SameDiff sd) {
    if (sd.hasGradientFunction()) {
      return;
    }
    sd.getOps().values().stream().filter(o -> o.getOp() instanceof org.promptrecovery4j.models.nn.JvmOps.Op).findFirst()
        .ifPresent(o -> {
          throw new IllegalArgumentException("the graph cannot be differentiated: its op " + o.getName() + " ("
              + o.getOp().opName() + ") is computed in Java, outside SameDiff's gradient machinery; build the model"
              + " for training (DecoderOptions.withDifferentiable(true); encoders: float32 linears)");
        });
    synchronized (System.class) {
      java.io.PrintStream out = System.out;
      System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
      try {
        sd.createGradFunction();
      } finally {
        System.setOut(out);
      }
    }
  }
}
