package org.promptrecovery4j.training.head;

import java.util.Arrays;
import org.promptrecovery4j.training.Shuffling;

/**
 * The training and validation rows of one head run, the one place both a single run ({@code --val-fraction}) and a
 * k-fold run ({@code --folds}) take them from. Rows are split in one order: a permutation from
 * {@code java.util.Random(seed)} (the trainers' {@link Shuffling}), or file order without shuffling. A single run
 * validates on the last ⌈F·N⌉ rows of that order (without validation its rows stay in file order, each epoch's
 * shuffle being drawn from {@code Random(seed + epoch)} anyway); fold k of K validates on part k, rows
 * [⌊k·N/K⌋, ⌊(k+1)·N/K⌋) of the order, and trains on the rest in that order, so the parts partition the rows and
 * differ in size by at most one. The arrays are row indices into the files; the record's equality is the arrays'
 * identity.
 */
public record RowSplit(int[] train, int[] validation) {

  /** The order rows are split in: a permutation from {@code Random(seed)} when shuffling, else 0..n-1. */
  public static int[] order(int n, boolean shuffle, long seed) {
    if (shuffle) {
      return Shuffling.permutation(n, seed);
    }
    int[] all = new int[n];
    Arrays.setAll(all, i -> i);
    return all;
  }

  /** A single run's split: the last ⌈F·N⌉ rows of {@link #order} validate (none when F is 0). */
  public static RowSplit holdOut(int n, double valFraction, boolean shuffle, long seed) {
    int[] all = order(n, shuffle && valFraction > 0, seed);
    int nVal = (int) Math.ceil(valFraction * n);
    if (valFraction > 0 && nVal >= n) {
      throw new IllegalArgumentException("--val-fraction " + valFraction + " leaves no training rows of " + n);
    }
    return new RowSplit(Arrays.copyOf(all, n - nVal), Arrays.copyOfRange(all, n - nVal, n));
  }

  /** Fold {@code k} of {@code folds}: part k of {@link #order} validates, the other parts train (in that order). */
  public static RowSplit fold(int n, int folds, int k, boolean shuffle, long seed) {
    if (folds < 2 || folds > n) {
      throw new IllegalArgumentException(folds + " folds of " + n + " rows");
    }
    if (k < 0 || k >= folds) {
      throw new IllegalArgumentException("fold " + k + " of " + folds + " (folds are 0.." + (folds - 1) + ")");
    }
    int[] all = order(n, shuffle, seed);
    int from = (int) ((long) k * n / folds);
    int to = (int) ((long) (k + 1) * n / folds);
    int[] train = new int[n - (to - from)];
    System.arraycopy(all, 0, train, 0, from);
    System.arraycopy(all, to, train, from, n - to);
    return new RowSplit(train, Arrays.copyOfRange(all, from, to));
  }
}
