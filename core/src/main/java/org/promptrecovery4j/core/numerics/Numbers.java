package org.promptrecovery4j.core.numerics;

import java.util.Arrays;
import java.util.Locale;

/** How the comparison prints numbers, shapes and names. */
final class Numbers {

  private Numbers() {}

  /**
   * The shortest decimal that reads back to {@code x} (to the float when {@code x} is one, as tensor JSON
   * values are), without a trailing {@code .0}: {@code 0.25}, {@code 1e-4}, {@code 3}, {@code NaN},
   * {@code Infinity}.
   */
  static String compact(double x) {
    String s = (double) (float) x == x ? Float.toString((float) x) : Double.toString(x);
    s = s.replace(".0E", "E").replace('E', 'e');
    return s.endsWith(".0") ? s.substring(0, s.length() - 2) : s;
  }

  /** An error for a table: {@code 3.052e-05}, {@code 0}, {@code Infinity}. */
  static String error(double x) {
    if (x == 0) {
      return "0";
    }
    return Double.isFinite(x) ? String.format(Locale.ROOT, "%.3e", x) : compact(x);
  }

  static String shape(long[] shape) {
    return shape == null ? "-" : Arrays.toString(shape);
  }

  /** {@code name} with control characters shown as {@code ?} and cut to 200 characters, for one line. */
  static String name(String name) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < name.length() && b.length() < 200; i++) {
      char c = name.charAt(i);
      b.append(Character.isISOControl(c) ? '?' : c);
    }
    return name.length() > 200 ? b + "..." : b.toString();
  }
}
