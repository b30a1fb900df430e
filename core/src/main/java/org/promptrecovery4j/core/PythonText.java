package org.promptrecovery4j.core;

/**
 * Python's {@code str} whitespace, for code that must give the same strings as Python: {@code str.isspace()} and
 * {@code str.strip()}. Python's set is not Java's: it holds U+001C..U+001F, U+0085 NEXT LINE and the no-break spaces
 * U+00A0, U+2007, U+202F (which {@link Character#isWhitespace} leaves out), and nothing else that {@link String#strip}
 * or {@link String#trim} would remove (trim removes every char up to U+0020, e.g. U+0000). The 29 code points below are
 * {@code [c for c in range(0x110000) if chr(c).isspace()]} of Python 3.11 (checked against Python's own list by the
 * recovery module's tests).
 */
public final class PythonText {

  private PythonText() {}

  /** Python's {@code chr(cp).isspace()}. */
  public static boolean isSpace(int cp) {
    if (cp <= 0x20) {
      return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
    }
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029
        || cp == 0x202F || cp == 0x205F || cp == 0x3000;
  }

  /** Python's {@code s.strip()}: Python's whitespace removed at both ends. */
  public static String strip(String s) {
    int begin = 0;
    int end = s.length();
    // every Python whitespace code point is in the BMP, so a char test is exact (a surrogate is never space)
    while (begin < end && isSpace(s.charAt(begin))) {
      begin++;
    }
    while (end > begin && isSpace(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(begin, end);
  }

  /** Whether {@code s} is empty or only Python whitespace ({@code not s.strip()}). */
  public static boolean isBlank(String s) {
    return s == null || strip(s).isEmpty();
  }
}
