package org.promptrecovery4j.training;

import java.util.Random;

/** The one seeded shuffle of the trainers (Fisher-Yates from the end), so that a seed means the same order everywhere. */
public final class Shuffling {

  private Shuffling() {}

  /** Shuffles {@code a} in place. */
  public static void shuffle(int[] a, Random r) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /** A seeded permutation of 0..n-1. */
  public static int[] permutation(int n, long seed) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    shuffle(p, new Random(seed));
    return p;
  }
}
