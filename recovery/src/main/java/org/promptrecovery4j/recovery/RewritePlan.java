package org.promptrecovery4j.recovery;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

/**
 * Which original is rewritten with which prompt in the {@code rewrite} job, in output order: either the full cross
 * product (every original with every prompt, original-major: {@code (0,0), (0,1), …, (1,0), …}) or {@code n} distinct
 * pairs drawn uniformly at random from it with a seed, in the same order. The draw depends only on the two counts,
 * {@code n} and the seed (Floyd's sampling over {@code java.util.Random}'s specified generator), so it is the same on
 * every run and every JVM. A pair's id is {@link #id}: {@code t<i>-p<j>}.
 */
public final class RewritePlan {

  /** One pair: the index of the original and of the prompt (0-based, in their files' order). */
  public record Pair(int text, int prompt) {
    public String id() {
      return RewritePlan.id(text, prompt);
    }
  }

  private final int texts;
  private final int prompts;
  private final long[] chosen; // sorted indices text * prompts + prompt; null for the whole cross product
  private final int size;

  private RewritePlan(int texts, int prompts, long[] chosen, int size) {
    this.texts = texts;
    this.prompts = prompts;
    this.chosen = chosen;
    this.size = size;
  }

  /** The row id of original {@code text} rewritten with prompt {@code prompt}. */
  public static String id(int text, int prompt) {
    return "t" + text + "-p" + prompt;
  }

  /** Every original with every prompt. */
  public static RewritePlan crossProduct(int texts, int prompts) {
    long all = check(texts, prompts);
    if (all > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(texts + " originals × " + prompts + " prompts = " + all + " pairs: too many for"
          + " one file; draw some with --pairs N");
    }
    return new RewritePlan(texts, prompts, null, (int) all);
  }

  /** {@code n} distinct pairs drawn with {@code seed}. */
  public static RewritePlan random(int texts, int prompts, int n, long seed) {
    long all = check(texts, prompts);
    if (n < 1 || n > all) {
      throw new IllegalArgumentException("--pairs " + n + ": must be between 1 and the " + texts + " × " + prompts
          + " = " + all + " pairs there are");
    }
    Random rnd = new Random(seed);
    Set<Long> picked = new HashSet<>(Math.max(16, n * 2));
    for (long j = all - n; j < all; j++) { // Floyd: n distinct values of [0, all), each set equally likely
      long t = below(rnd, j + 1);
      picked.add(picked.contains(t) ? j : t);
    }
    long[] chosen = picked.stream().mapToLong(Long::longValue).sorted().toArray();
    return new RewritePlan(texts, prompts, chosen, n);
  }

  /** A uniform value of [0, bound) from {@code Random.nextLong()} (whose sequence is specified), by rejection. */
  static long below(Random rnd, long bound) {
    long limit = Long.MAX_VALUE - Long.MAX_VALUE % bound; // values >= limit would favour the small results
    while (true) {
      long r = rnd.nextLong() >>> 1;
      if (r < limit) {
        return r % bound;
      }
    }
  }

  private static long check(int texts, int prompts) {
    if (texts < 1 || prompts < 1) {
      throw new IllegalArgumentException("no pairs: " + texts + " originals and " + prompts + " prompts");
    }
    return (long) texts * prompts;
  }

  public int size() {
    return size;
  }

  public Pair get(int position) {
    if (position < 0 || position >= size) {
      throw new IndexOutOfBoundsException(position);
    }
    long k = chosen == null ? position : chosen[position];
    return new Pair((int) (k / prompts), (int) (k % prompts));
  }

  /** Whether this is the whole cross product. */
  public boolean isCrossProduct() {
    return chosen == null;
  }

  @Override
  public String toString() {
    return (chosen == null ? "all " : "") + size + " pairs of " + texts + " originals × " + prompts + " prompts";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RewritePlan p && p.texts == texts && p.prompts == prompts && p.size == size
        && Arrays.equals(p.chosen, chosen);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(chosen) * 31 + size;
  }
}
