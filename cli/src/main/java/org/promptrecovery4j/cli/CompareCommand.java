package org.promptrecovery4j.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.TensorJson;
import org.promptrecovery4j.core.numerics.ComparisonReport;
import org.promptrecovery4j.core.numerics.TensorComparison;
import org.promptrecovery4j.core.numerics.Tolerance;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code compare}: two tensor JSON files, tensor by tensor ({@link TensorComparison}). */
@Command(
    name = "compare",
    mixinStandardHelpOptions = true,
    description = {
      "Compare the tensors of two tensor JSON files (e.g. a PyTorch reference and this project's output) in the"
          + " expected file's order: per tensor the max abs and rel error, the worst index and both values there,"
          + " PASS/FAIL; the last line names the first failing layer.",
      "An element passes when |actual - expected| <= atol + rtol * |expected| (numpy.allclose).",
      "Exit status: 0 all pass, 1 some tensor fails (or is missing, or has another shape), 2 bad usage or a file"
          + " that cannot be read."
    },
    exitCodeOnInvalidInput = 2)
public final class CompareCommand implements Callable<Integer> {

  @Option(names = "--expected", required = true, paramLabel = "FILE",
      description = "the reference tensor JSON (its order is the report's)")
  Path expected;

  @Option(names = "--actual", required = true, paramLabel = "FILE", description = "the tensor JSON to check")
  Path actual;

  @Option(names = "--atol", paramLabel = "A", defaultValue = "1e-4",
      description = "absolute tolerance (default: ${DEFAULT-VALUE})")
  double atol;

  @Option(names = "--rtol", paramLabel = "R", defaultValue = "0",
      description = "relative tolerance (default: ${DEFAULT-VALUE})")
  double rtol;

  @Option(names = "--atol-scaled",
      description = "atol is relative to each tensor's scale, max(1, max |expected|): the project's fp32 rule for"
          + " tensors of any magnitude (T5 activations, logits)")
  boolean atolScaled;

  @Option(names = "--mask", paramLabel = "FILE",
      description = "an inputs.json whose attention_mask [B, S] leaves out padded positions (0) of every tensor"
          + " whose first two dimensions are [B, S]")
  Path mask;

  @Option(names = "--json", description = "print the report as JSON instead of a table")
  boolean json;

  @Option(names = "--skip-missing",
      description = "compare only the expected tensors the actual file holds (a reference dumped with more modules"
          + " than were captured); the others are listed on stderr instead of failing")
  boolean skipMissing;

  @Override
  public Integer call() {
    ComparisonReport report;
    try {
      Tolerance tolerance = atolScaled ? Tolerance.scaled(atol, rtol) : Tolerance.of(atol, rtol);
      INDArray m = mask == null ? null : IdsJson.read(existing("--mask", mask)).get("attention_mask", true);
      TensorComparison.checkMask(m, mask + ": attention_mask");
      if (skipMissing) {
        Map<String, INDArray> exp = TensorComparison.expand(TensorJson.read(existing("--expected", expected)),
            expected.toString());
        Map<String, INDArray> act = TensorComparison.expand(TensorJson.read(existing("--actual", actual)),
            actual.toString());
        List<String> skipped = exp.keySet().stream().filter(n -> !act.containsKey(n)).toList();
        exp.keySet().retainAll(act.keySet());
        if (!skipped.isEmpty()) {
          System.err.println(skipped.size() + " tensors of " + expected + " are not in " + actual
              + " (--skip-missing): " + String.join(", ", skipped));
        }
        if (exp.isEmpty()) {
          throw new IllegalArgumentException(actual + " holds none of the tensors of " + expected);
        }
        report = TensorComparison.compare(exp, act, tolerance, m);
      } else {
        report = TensorComparison.compareFiles(existing("--expected", expected), existing("--actual", actual),
            tolerance, m);
      }
    } catch (IOException | UncheckedIOException | IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      return 2;
    }
    System.out.print(json ? report.toJson() : report.text());
    System.out.flush();
    return report.passed() ? 0 : 1;
  }

  private static Path existing(String option, Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(option + " " + file + ": no such file");
    }
    return file;
  }
}
