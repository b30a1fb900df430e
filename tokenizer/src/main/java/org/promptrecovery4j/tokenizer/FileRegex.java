package org.promptrecovery4j.tokenizer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A regular expression that came from a tokenizer file (a Split pre-tokenizer's, a Replace normalizer's or
 * decoder's): compiled to a named {@link TokenizerException} when invalid or too deeply nested, and matched
 * with a step budget, so that a pattern that backtracks catastrophically ({@code (a+)+b}) is a named error
 * and never a hang. Java's regex engine reads its text through {@link CharSequence#charAt}: the budget
 * counts those reads, at most {@link #BASE_STEPS} + {@link #STEPS_PER_CHAR} n + 4 n² for a text of n chars
 * (the patterns of real tokenizers read each character a few times).
 */
public final class FileRegex {
  public static final long STEPS_PER_CHAR = 10_000;
  public static final long BASE_STEPS = 1_000_000;

  private FileRegex() {}

  /** Compiles {@code regex} (flags as {@link Pattern#compile(String, int)}); a bad one is a named error. */
  public static Pattern compile(String regex, int flags) {
    try {
      return Pattern.compile(regex, flags);
    } catch (PatternSyntaxException e) {
      throw new TokenizerException("invalid regex " + shown(regex) + ": " + e.getDescription(), e);
    } catch (StackOverflowError e) {
      throw new TokenizerException("regex " + shown(regex) + " is nested too deeply to compile");
    }
  }

  /** A matcher of {@code p} over {@code text} that fails with a named error once its budget is spent. */
  public static Matcher matcher(Pattern p, String text) {
    return p.matcher(new Budgeted(text, p));
  }

  /** {@code p.matcher(text).replaceAll(literal)}, within the budget. */
  public static String replaceAll(Pattern p, String text, String literal) {
    try {
      return matcher(p, text).replaceAll(Matcher.quoteReplacement(literal));
    } catch (StackOverflowError e) {
      throw tooDeep(p, text);
    }
  }

  public static TokenizerException tooDeep(Pattern p, CharSequence text) {
    return new TokenizerException("regex " + shown(p.pattern()) + " recursed too deeply on a text of "
        + text.length() + " chars");
  }

  static String shown(String regex) {
    String s = regex.length() > 60 ? regex.substring(0, 60) + "..." : regex;
    return "'" + s + "'";
  }

  /**
   * The reads a text of {@code n} chars may take: linear with a large factor, plus a quadratic term so that
   * a real tokenizer's pattern that is quadratic on a long whitespace run ({@code \\s+(?!\\S)}) still passes.
   */
  static long budget(long n) {
    return BASE_STEPS + STEPS_PER_CHAR * n + 4 * n * n;
  }

  /** The text, counting the reads of the regex engine. */
  private static final class Budgeted implements CharSequence {
    private final String text;
    private final int from;
    private final int to;
    private final long[] left;
    private final Pattern pattern;

    Budgeted(String text, Pattern pattern) {
      this(text, 0, text.length(), new long[] {budget(text.length())}, pattern);
    }

    private Budgeted(String text, int from, int to, long[] left, Pattern pattern) {
      this.text = text;
      this.from = from;
      this.to = to;
      this.left = left;
      this.pattern = pattern;
    }

    @Override
    public int length() {
      return to - from;
    }

    @Override
    public char charAt(int index) {
      if (--left[0] < 0) {
        throw new TokenizerException("regex " + shown(pattern.pattern()) + " takes too many steps on a text of "
            + text.length() + " chars (catastrophic backtracking?)");
      }
      return text.charAt(from + index);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return text.substring(from + start, from + end);
    }

    @Override
    public String toString() {
      return text.substring(from, to);
    }
  }
}
