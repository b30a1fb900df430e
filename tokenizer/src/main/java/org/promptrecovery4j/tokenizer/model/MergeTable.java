package org.promptrecovery4j.tokenizer.model;

import java.util.Map;

/** Open-addressing map from a token pair (two ints) to (rank, merged id), without boxing. */
final class MergeTable {
  private final long[] keys;
  private final int[] ranks;
  private final int[] merged;
  private final boolean[] used;
  private final int mask;

  MergeTable(Map<Long, int[]> merges) {
    int cap = Integer.highestOneBit(Math.max(4, merges.size() * 2 + 1)) << 1;
    keys = new long[cap];
    ranks = new int[cap];
    merged = new int[cap];
    used = new boolean[cap];
    mask = cap - 1;
    for (Map.Entry<Long, int[]> e : merges.entrySet()) {
      long k = e.getKey();
      int i = slot(k);
      while (used[i] && keys[i] != k) {
        i = (i + 1) & mask;
      }
      used[i] = true;
      keys[i] = k;
      ranks[i] = e.getValue()[0];
      merged[i] = e.getValue()[1];
    }
  }

  private int slot(long k) {
    long h = k * 0x9E3779B97F4A7C15L;
    return (int) (h >>> 40) & mask;
  }

  /** The slot of the pair, or -1. */
  int find(int a, int b) {
    long k = ((long) a << 32) | (b & 0xFFFFFFFFL);
    int i = slot(k);
    while (used[i]) {
      if (keys[i] == k) {
        return i;
      }
      i = (i + 1) & mask;
    }
    return -1;
  }

  int rank(int slot) {
    return ranks[slot];
  }

  int merged(int slot) {
    return merged[slot];
  }
}
