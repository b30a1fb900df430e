package org.promptrecovery4j.tokenizer.model;

import java.util.HashMap;
import java.util.Map;

/** A token to id map with its inverse. */
public final class Vocab {
  private final Map<String, Integer> toId;
  private final String[] toToken;

  public Vocab(Map<String, Integer> map) {
    toId = new HashMap<>(map);
    int max = -1;
    for (Map.Entry<String, Integer> e : map.entrySet()) {
      int v = e.getValue();
      if (v < 0) {
        throw new IllegalArgumentException("vocabulary: token '" + cut(e.getKey()) + "' has the negative id " + v);
      }
      max = Math.max(max, v);
    }
    // the id table is as long as the largest id: ids far past the vocabulary size would allocate without bound
    if (max >= MAX_SPREAD * (long) map.size() + MAX_GAP) {
      throw new IllegalArgumentException("vocabulary of " + map.size() + " tokens has the id " + max
          + ", far past its size");
    }
    toToken = new String[max + 1];
    for (Map.Entry<String, Integer> e : map.entrySet()) {
      toToken[e.getValue()] = e.getKey();
    }
  }

  /** The largest id accepted is below {@code MAX_SPREAD * size + MAX_GAP}. */
  static final long MAX_SPREAD = 16;
  static final long MAX_GAP = 1 << 20;

  private static String cut(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }

  public int id(String token) {
    Integer i = toId.get(token);
    return i == null ? -1 : i;
  }

  public String token(int id) {
    return id >= 0 && id < toToken.length ? toToken[id] : null;
  }

  public int size() {
    return toId.size();
  }

  public boolean contains(String token) {
    return toId.containsKey(token);
  }
}
