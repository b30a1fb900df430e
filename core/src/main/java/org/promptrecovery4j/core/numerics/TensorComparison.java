package org.promptrecovery4j.core.numerics;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.TensorJson;

/**
 * Compares tensors elementwise in float64 on the host: an element passes when
 * {@code |a - e| <= atol + rtol * |e|} ({@link Tolerance}); the same NaN or infinity on both sides matches,
 * NaN or an infinity against anything else fails. The one implementation behind the {@code compare} command
 * and the testkit's AssertJ assertions.
 *
 * <p>An optional attention mask {@code [B, S]} of 0/1 leaves out the positions where it is 0 in every tensor
 * whose first two dimensions are {@code [B, S]} (padded tokens carry garbage in HF and here alike); other
 * tensors are compared whole.
 */
public final class TensorComparison {

  private TensorComparison() {}

  /**
   * Compares every expected tensor with the actual tensor of the same name, in the expected map's order
   * (model order for captures). Values are {@link INDArray} or {@code List<INDArray>} as {@link TensorJson#read}
   * gives them; a list {@code hidden_states} is compared as {@code hidden_states[0]}, {@code hidden_states[1]},
   * .... A missing actual tensor, another shape or a NaN where the other side is finite is a failed tensor
   * of the report, not an exception; actual tensors with no expected one are listed as not compared.
   *
   * @param mask an attention mask {@code [B, S]} of 0 and 1, or null for none
   * @throws IllegalArgumentException when expected holds no tensor, a value is not a tensor, a name occurs
   *     twice after lists are expanded, or the mask is not a [B, S] array of 0 and 1
   */
  public static ComparisonReport compare(
      Map<String, ?> expected, Map<String, ?> actual, Tolerance tolerance, INDArray mask) {
    return compareExpanded(expand(expected, "expected"), expand(actual, "actual"), "expected", tolerance, mask);
  }

  /**
   * {@link #compare(Map, Map, Tolerance, INDArray)} of two tensor JSON files; a file that cannot be read, holds
   * no tensor or a name twice is an exception naming it.
   */
  public static ComparisonReport compareFiles(Path expected, Path actual, Tolerance tolerance, INDArray mask)
      throws IOException {
    Map<String, INDArray> exp = expand(TensorJson.read(expected), expected.toString());
    Map<String, INDArray> act = expand(TensorJson.read(actual), actual.toString());
    return compareExpanded(exp, act, expected.toString(), tolerance, mask);
  }

  private static ComparisonReport compareExpanded(
      Map<String, INDArray> exp, Map<String, INDArray> act, String what, Tolerance tolerance, INDArray mask) {
    if (exp.isEmpty()) {
      throw new IllegalArgumentException(what + " holds no tensors: nothing to compare");
    }
    Mask m = Mask.of(mask);
    List<TensorDiff> diffs = new ArrayList<>(exp.size());
    for (Map.Entry<String, INDArray> e : exp.entrySet()) {
      diffs.add(compare(e.getKey(), e.getValue(), act.get(e.getKey()), tolerance, m));
    }
    List<String> notCompared = new ArrayList<>();
    for (String name : act.keySet()) {
      if (!exp.containsKey(name)) {
        notCompared.add(name);
      }
    }
    return new ComparisonReport(tolerance, diffs, notCompared, mask == null ? null : mask.shape());
  }

  /**
   * One actual tensor against the expected one.
   *
   * @param name what to call it in the result
   * @param actual the actual tensor, null for a missing one
   * @param mask an attention mask {@code [B, S]} of 0 and 1, or null for none
   */
  public static TensorDiff compare(
      String name, INDArray expected, INDArray actual, Tolerance tolerance, INDArray mask) {
    if (expected == null) {
      throw new IllegalArgumentException("no expected tensor for '" + name + "'");
    }
    return compare(name, expected, actual, tolerance, Mask.of(mask));
  }

  /**
   * The tensors of a map as {@link TensorJson#read} gives them, lists expanded to {@code name[0]},
   * {@code name[1]}, ..., in order.
   *
   * @param what names the map in errors (e.g. its file)
   */
  public static Map<String, INDArray> expand(Map<String, ?> tensors, String what) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    for (Map.Entry<String, ?> e : tensors.entrySet()) {
      Object v = e.getValue();
      if (v instanceof INDArray a) {
        put(out, e.getKey(), a, what);
      } else if (v instanceof List<?> list) {
        for (int i = 0; i < list.size(); i++) {
          if (!(list.get(i) instanceof INDArray a)) {
            throw new IllegalArgumentException(what + ": '" + Numbers.name(e.getKey()) + "[" + i + "]' is "
                + typeOf(list.get(i)) + ", not a tensor");
          }
          put(out, e.getKey() + "[" + i + "]", a, what);
        }
      } else {
        throw new IllegalArgumentException(what + ": '" + Numbers.name(e.getKey()) + "' is " + typeOf(v)
            + ", not a tensor or a list of tensors");
      }
    }
    return out;
  }

  private static void put(Map<String, INDArray> out, String name, INDArray a, String what) {
    if (out.put(name, a) != null) {
      throw new IllegalArgumentException(what + ": the tensor name '" + Numbers.name(name)
          + "' occurs twice (a key and an entry of a list)");
    }
  }

  private static String typeOf(Object o) {
    return o == null ? "null" : "a " + o.getClass().getSimpleName();
  }

  private static TensorDiff compare(String name, INDArray expected, INDArray actual, Tolerance tol, Mask mask) {
    long[] shape = expected.shape();
    long elements = expected.length();
    if (actual == null) {
      return new TensorDiff(name, shape, null, TensorDiff.Outcome.MISSING, tol, elements, false, 0, 0, Double.NaN,
          Double.NaN, null, Double.NaN, Double.NaN, "not in actual");
    }
    if (!Arrays.equals(shape, actual.shape())) {
      return new TensorDiff(name, shape, actual.shape(), TensorDiff.Outcome.SHAPE_MISMATCH, tol, elements, false, 0, 0,
          Double.NaN, Double.NaN, null, Double.NaN, Double.NaN,
          "shape " + Arrays.toString(actual.shape()) + " in actual, " + Arrays.toString(shape) + " expected");
    }
    double[] e = values(expected);
    double[] a = values(actual);
    // the mask applies when the first two dimensions are [B, S]: element i is at position (b, s) with
    // i = (b * S + s) * inner + rest
    boolean masked = mask != null && shape.length >= 2 && shape[0] == mask.batch && shape[1] == mask.length;
    long inner = masked && e.length > 0 ? e.length / (mask.batch * mask.length) : 1;
    if (tol.scaled()) { // atol relative to the scale of the compared expected values
      double scale = 0;
      for (int i = 0; i < e.length; i++) {
        if ((!masked || mask.keeps((int) (i / inner))) && Double.isFinite(e[i])) {
          scale = Math.max(scale, Math.abs(e[i]));
        }
      }
      tol = tol.forScale(scale);
    }

    long compared = 0;
    long mismatched = 0;
    double maxAbs = 0;
    double maxRel = 0;
    int worst = -1;
    double worstRatio = -1;
    double worstAbs = -1;
    int firstNonFinite = -1;
    long nonFinite = 0;
    for (int i = 0; i < e.length; i++) {
      if (masked && !mask.keeps((int) (i / inner))) {
        continue;
      }
      compared++;
      double ev = e[i];
      double av = a[i];
      double abs;
      double rel;
      double allowed;
      if (Double.isFinite(ev) && Double.isFinite(av)) {
        abs = Math.abs(av - ev);
        rel = abs == 0 ? 0 : abs / Math.abs(ev); // e == 0 != a: infinite
        allowed = tol.allowed(ev);
      } else if (Double.compare(ev, av) == 0) { // the same NaN or infinity on both sides
        abs = 0;
        rel = 0;
        allowed = tol.atol();
      } else {
        abs = Double.POSITIVE_INFINITY;
        rel = Double.POSITIVE_INFINITY;
        allowed = tol.atol();
        nonFinite++;
        if (firstNonFinite < 0) {
          firstNonFinite = i;
        }
      }
      boolean beyond = !(abs <= allowed);
      if (beyond) {
        mismatched++;
      }
      // how far through its tolerance the element is; the worst element has the largest share (then the
      // largest error, then comes first)
      double ratio = abs == 0 ? 0 : allowed == 0 ? Double.POSITIVE_INFINITY : abs / allowed;
      if (Double.isNaN(ratio)) { // inf / inf, from huge doubles
        ratio = beyond ? Double.POSITIVE_INFINITY : 1;
      }
      maxAbs = Math.max(maxAbs, abs);
      maxRel = Math.max(maxRel, rel);
      if (ratio > worstRatio || (ratio == worstRatio && abs > worstAbs)) {
        worst = i;
        worstRatio = ratio;
        worstAbs = abs;
      }
    }
    TensorDiff.Outcome outcome;
    String reason;
    if (nonFinite > 0) {
      outcome = TensorDiff.Outcome.NON_FINITE;
      double ev = e[firstNonFinite];
      double av = a[firstNonFinite];
      String at = " at " + Arrays.toString(unravel(firstNonFinite, shape));
      if (Double.isFinite(ev)) {
        reason = Numbers.compact(av) + " in actual" + at + " where expected is " + Numbers.compact(ev);
      } else if (Double.isFinite(av)) {
        reason = Numbers.compact(ev) + " in expected" + at + " where actual is " + Numbers.compact(av);
      } else {
        reason = "actual " + Numbers.compact(av) + at + " where expected is " + Numbers.compact(ev);
      }
      if (nonFinite > 1) {
        reason += " (" + nonFinite + " such elements)";
      }
      if (mismatched > nonFinite) {
        reason += "; " + mismatched + " of " + compared + " elements beyond " + tol;
      }
    } else if (mismatched > 0) {
      outcome = TensorDiff.Outcome.OUT_OF_TOLERANCE;
      reason = mismatched + " of " + compared + " elements beyond " + tol;
    } else {
      outcome = TensorDiff.Outcome.PASS;
      reason = "";
    }
    return new TensorDiff(name, shape, actual.shape(), outcome, tol, elements, masked, compared, mismatched, maxAbs,
        maxRel,
        worst < 0 ? null : unravel(worst, shape), worst < 0 ? Double.NaN : e[worst],
        worst < 0 ? Double.NaN : a[worst], reason);
  }

  /**
   * Checks that {@code mask} is an attention mask (a [B, S] array of 0 and 1) before a comparison, so that an
   * error names where it came from.
   *
   * @param what names the mask in the error, e.g. {@code "inputs.json: attention_mask"}
   * @throws IllegalArgumentException naming {@code what}, the shape or the first value that is not 0 or 1
   */
  public static void checkMask(INDArray mask, String what) {
    Mask.of(mask, what);
  }

  /** {@code |a - e|}: 0 for the same NaN or infinity on both sides, infinite for a non-finite value against another. */
  static double error(double e, double a) {
    if (Double.isFinite(e) && Double.isFinite(a)) {
      return Math.abs(a - e);
    }
    return Double.compare(e, a) == 0 ? 0 : Double.POSITIVE_INFINITY;
  }

  /** The values in row-major order as doubles (tensors here are fixture-sized). */
  private static double[] values(INDArray t) {
    long n = t.length();
    if (n == 0) {
      return new double[0];
    }
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("a tensor of " + n + " elements is too large to compare on the host");
    }
    INDArray c = t.castTo(DataType.DOUBLE).dup('c');
    double[] v = c.data().asDouble();
    return v.length == n ? v : Arrays.copyOf(v, (int) n);
  }

  /** The multi-index of row-major position {@code i} in {@code shape}. */
  static long[] unravel(long i, long[] shape) {
    long[] idx = new long[shape.length];
    for (int d = shape.length - 1; d >= 0; d--) {
      if (shape[d] > 0) {
        idx[d] = i % shape[d];
        i /= shape[d];
      }
    }
    return idx;
  }

  /** A [B, S] 0/1 attention mask, flattened. */
  private record Mask(long batch, long length, boolean[] keep) {

    static Mask of(INDArray mask) {
      return of(mask, "the attention mask");
    }

    static Mask of(INDArray mask, String what) {
      if (mask == null) {
        return null;
      }
      if (mask.rank() != 2) {
        throw new IllegalArgumentException(what + " has shape " + Arrays.toString(mask.shape())
            + ", not [batch, length]");
      }
      double[] v = values(mask);
      boolean[] keep = new boolean[v.length];
      for (int i = 0; i < v.length; i++) {
        if (v[i] != 0 && v[i] != 1) {
          throw new IllegalArgumentException(what + " holds " + Numbers.compact(v[i]) + " at "
              + Arrays.toString(unravel(i, mask.shape())) + " (only 0 and 1 allowed)");
        }
        keep[i] = v[i] == 1;
      }
      return new Mask(mask.size(0), mask.size(1), keep);
    }

    boolean keeps(int position) {
      return keep[position];
    }
  }
}
