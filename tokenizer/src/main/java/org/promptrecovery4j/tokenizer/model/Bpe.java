package org.promptrecovery4j.tokenizer.model;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.promptrecovery4j.tokenizer.Token;

/**
 * Byte-pair encoding as HF {@code tokenizers} does it: the word is split into characters (or
 * byte tokens {@code <0xXX>} with byte fallback, or unk), then the adjacent pair of lowest merge
 * rank is merged (leftmost first among equal ranks) until no pair can merge.
 */
public final class Bpe implements Model {
  private final Vocab vocab;
  /** (leftId, rightId) packed into a long -> {rank, newId}. */
  private final Map<Long, int[]> merges;
  private final String unkToken;
  private final String continuingSubwordPrefix;
  private final String endOfWordSuffix;
  private final boolean fuseUnk;
  private final boolean byteFallback;
  private final boolean ignoreMerges;
  private final int[] byteIds = new int[256];
  private final Map<String, Token[]> cache = new ConcurrentHashMap<>();
  private static final int CACHE_MAX = 100_000;

  public Bpe(Vocab vocab, Map<Long, int[]> merges, String unkToken, String continuingSubwordPrefix,
      String endOfWordSuffix, boolean fuseUnk, boolean byteFallback, boolean ignoreMerges) {
    this.vocab = vocab;
    this.merges = merges;
    this.unkToken = unkToken;
    this.continuingSubwordPrefix = continuingSubwordPrefix;
    this.endOfWordSuffix = endOfWordSuffix;
    this.fuseUnk = fuseUnk;
    this.byteFallback = byteFallback;
    this.ignoreMerges = ignoreMerges;
    for (int b = 0; b < 256; b++) {
      byteIds[b] = vocab.id(String.format("<0x%02X>", b));
    }
  }

  public static long pair(int a, int b) {
    return ((long) a << 32) | (b & 0xFFFFFFFFL);
  }

  /**
   * Builds the merge table from "a b" pairs in rank order. Throws naming the pair when a part or
   * the merged token is not in the vocabulary.
   */
  public static Map<Long, int[]> mergesFromPairs(Vocab vocab, List<String[]> pairs, String prefix) {
    Map<Long, int[]> m = new HashMap<>(pairs.size() * 2);
    int rank = 0;
    int prefixLen = prefix == null ? 0 : prefix.length();
    for (String[] p : pairs) {
      int a = vocab.id(p[0]);
      int b = vocab.id(p[1]);
      String mergedStr = p[0] + (prefixLen > 0 && p[1].startsWith(prefix) ? p[1].substring(prefixLen) : p[1]);
      int merged = vocab.id(mergedStr);
      if (a < 0 || b < 0) {
        throw new IllegalArgumentException("BPE merge '" + p[0] + " " + p[1] + "': part not in the vocabulary");
      }
      if (merged < 0) {
        throw new IllegalArgumentException("BPE merge '" + p[0] + " " + p[1] + "': merged token not in the vocabulary");
      }
      m.putIfAbsent(pair(a, b), new int[] {rank, merged});
      rank++;
    }
    return m;
  }

  @Override
  public void tokenize(String word, List<Token> out) {
    if (word.isEmpty()) {
      return;
    }
    Token[] cached = cache.get(word);
    if (cached == null) {
      cached = compute(word);
      if (cache.size() < CACHE_MAX) {
        cache.put(word, cached);
      }
    }
    for (Token t : cached) {
      out.add(t);
    }
  }

  private Token[] compute(String word) {
    if (ignoreMerges) {
      int id = vocab.id(word);
      if (id >= 0) {
        return new Token[] {new Token(id, word)};
      }
    }
    // initial symbols
    int[] ids = new int[word.length() + 8];
    int n = 0;
    int unkId = unkToken == null ? -1 : vocab.id(unkToken);
    boolean lastWasUnk = false;
    int len = word.length();
    for (int i = 0; i < len; ) {
      int cp = word.codePointAt(i);
      int cc = Character.charCount(cp);
      boolean first = i == 0;
      boolean last = i + cc >= len;
      String s = word.substring(i, i + cc);
      if (!first && continuingSubwordPrefix != null) {
        s = continuingSubwordPrefix + s;
      }
      if (last && endOfWordSuffix != null) {
        s = s + endOfWordSuffix;
      }
      i += cc;
      int id = vocab.id(s);
      if (id >= 0) {
        if (n + 1 > ids.length) {
          ids = java.util.Arrays.copyOf(ids, ids.length * 2);
        }
        ids[n++] = id;
        lastWasUnk = false;
        continue;
      }
      if (byteFallback) {
        byte[] bytes = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
        boolean all = true;
        for (byte b : bytes) {
          if (byteIds[b & 0xFF] < 0) {
            all = false;
            break;
          }
        }
        if (all) {
          if (n + bytes.length > ids.length) {
            ids = java.util.Arrays.copyOf(ids, ids.length * 2 + bytes.length);
          }
          for (byte b : bytes) {
            ids[n++] = byteIds[b & 0xFF];
          }
          lastWasUnk = false;
          continue;
        }
      }
      if (unkId >= 0) {
        if (fuseUnk && lastWasUnk) {
          continue;
        }
        if (n + 1 > ids.length) {
          ids = java.util.Arrays.copyOf(ids, ids.length * 2);
        }
        ids[n++] = unkId;
        lastWasUnk = true;
      } else {
        throw new IllegalArgumentException("BPE: character U+" + Integer.toHexString(cp).toUpperCase()
            + " not in the vocabulary and no unk token");
      }
    }
    n = merge(ids, n);
    Token[] res = new Token[n];
    for (int i = 0; i < n; i++) {
      res[i] = new Token(ids[i], vocab.token(ids[i]));
    }
    return res;
  }

  /** Merges in place; returns the new length. */
  private int merge(int[] ids, int n) {
    if (n < 2) {
      return n;
    }
    int[] ranks = new int[n];
    int[] newIds = new int[n];
    for (int i = 0; i + 1 < n; i++) {
      lookup(ids[i], ids[i + 1], ranks, newIds, i);
    }
    ranks[n - 1] = Integer.MAX_VALUE;
    while (n > 1) {
      int best = -1;
      int bestRank = Integer.MAX_VALUE;
      for (int i = 0; i + 1 < n; i++) {
        if (ranks[i] < bestRank) {
          bestRank = ranks[i];
          best = i;
        }
      }
      if (best < 0) {
        break;
      }
      ids[best] = newIds[best];
      System.arraycopy(ids, best + 2, ids, best + 1, n - best - 2);
      System.arraycopy(ranks, best + 2, ranks, best + 1, n - best - 2);
      System.arraycopy(newIds, best + 2, newIds, best + 1, n - best - 2);
      n--;
      ranks[n - 1] = Integer.MAX_VALUE;
      if (best + 1 < n) {
        lookup(ids[best], ids[best + 1], ranks, newIds, best);
      } else {
        ranks[best] = Integer.MAX_VALUE;
      }
      if (best > 0) {
        lookup(ids[best - 1], ids[best], ranks, newIds, best - 1);
      }
    }
    return n;
  }

  private void lookup(int a, int b, int[] ranks, int[] newIds, int i) {
    int[] m = merges.get(pair(a, b));
    if (m == null) {
      ranks[i] = Integer.MAX_VALUE;
    } else {
      ranks[i] = m[0];
      newIds[i] = m[1];
    }
  }

  @Override
  public int tokenToId(String token) {
    return vocab.id(token);
  }

  @Override
  public String idToToken(int id) {
    return vocab.token(id);
  }

  @Override
  public int vocabSize() {
    return vocab.size();
  }

  public Vocab vocab() {
    return vocab;
  }

  /** Helper for loaders: vocabulary in insertion order. */
  public static Map<String, Integer> orderedMap() {
    return new LinkedHashMap<>();
  }

  static List<String> noList() {
    return new ArrayList<>();
  }
}
