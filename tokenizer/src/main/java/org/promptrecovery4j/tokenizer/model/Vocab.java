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
    for (int v : map.values()) {
      max = Math.max(max, v);
    }
    toToken = new String[max + 1];
    for (Map.Entry<String, Integer> e : map.entrySet()) {
      toToken[e.getValue()] = e.getKey();
    }
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
