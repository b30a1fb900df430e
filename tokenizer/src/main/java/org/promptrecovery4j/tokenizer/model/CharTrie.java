package org.promptrecovery4j.tokenizer.model;

import java.util.Arrays;

/**
 * A compact trie over UTF-16 chars: node transitions in one open-addressing table keyed by
 * (node, char), a value per node. Node 0 is the root.
 */
final class CharTrie {
  private long[] keys = new long[1 << 12];
  private int[] children = new int[1 << 12];
  private int used;
  private int[] values = new int[1 << 10];
  private int nodes = 1;

  CharTrie() {
    Arrays.fill(keys, -1L);
    Arrays.fill(values, -1);
  }

  private static long key(int node, char c) {
    return ((long) node << 16) | c;
  }

  private int slot(long k, int mask) {
    long h = k * 0x9E3779B97F4A7C15L;
    return (int) (h >>> 35) & mask;
  }

  /** The child of node by c, or -1. */
  int child(int node, char c) {
    long k = key(node, c);
    int mask = keys.length - 1;
    int i = slot(k, mask);
    while (true) {
      long kk = keys[i];
      if (kk == k) {
        return children[i];
      }
      if (kk == -1L) {
        return -1;
      }
      i = (i + 1) & mask;
    }
  }

  private int addChild(int node, char c) {
    int existing = child(node, c);
    if (existing >= 0) {
      return existing;
    }
    if ((used + 1) * 2 > keys.length) {
      grow();
    }
    int id = nodes++;
    if (id >= values.length) {
      int old = values.length;
      values = Arrays.copyOf(values, old * 2);
      Arrays.fill(values, old, values.length, -1);
    }
    put(key(node, c), id);
    return id;
  }

  private void put(long k, int child) {
    int mask = keys.length - 1;
    int i = slot(k, mask);
    while (keys[i] != -1L) {
      i = (i + 1) & mask;
    }
    keys[i] = k;
    children[i] = child;
    used++;
  }

  private void grow() {
    long[] oldKeys = keys;
    int[] oldChildren = children;
    keys = new long[oldKeys.length * 2];
    children = new int[oldKeys.length * 2];
    Arrays.fill(keys, -1L);
    used = 0;
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] != -1L) {
        put(oldKeys[i], oldChildren[i]);
      }
    }
  }

  /** Inserts s with a value; an existing value is kept (first insertion wins). */
  void insert(String s, int value) {
    int node = 0;
    for (int i = 0; i < s.length(); i++) {
      node = addChild(node, s.charAt(i));
    }
    if (values[node] < 0) {
      values[node] = value;
    }
  }

  int value(int node) {
    return values[node];
  }
}
