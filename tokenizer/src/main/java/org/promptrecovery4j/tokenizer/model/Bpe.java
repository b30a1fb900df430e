package org.promptrecovery4j.tokenizer.model;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
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
  private final MergeTable merges;
  private final String unkToken;
  private final String continuingSubwordPrefix;
  private final String endOfWordSuffix;
  private final boolean fuseUnk;
  private final boolean byteFallback;
  private final boolean ignoreMerges;
  private final int[] byteIds = new int[256];
  private final Map<String, Token[]> cache = new ConcurrentHashMap<>();
  private static final int CACHE_MAX = 100_000;
  /** Longer words are not cached (like HF, which caches only short sequences). */
  private static final int CACHE_MAX_WORD = 256;

  public Bpe(Vocab vocab, Map<Long, int[]> merges, String unkToken, String continuingSubwordPrefix,
      String endOfWordSuffix, boolean fuseUnk, boolean byteFallback, boolean ignoreMerges) {
    this.vocab = vocab;
    this.merges = new MergeTable(merges);
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

  /** Ids of single BMP characters, looked up once: -2 = not looked up yet. */
  private final int[] charIds = initCharIds();

  private static int[] initCharIds() {
    int[] a = new int[65536];
    java.util.Arrays.fill(a, -2);
    return a;
  }

  private int charId(char c) {
    int id = charIds[c];
    if (id == -2) {
      id = vocab.id(String.valueOf(c));
      charIds[c] = id;
    }
    return id;
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
      if (word.length() <= CACHE_MAX_WORD && cache.size() < CACHE_MAX) {
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
      int id;
      if (cc == 1 && continuingSubwordPrefix == null && endOfWordSuffix == null) {
        id = charId(word.charAt(i));
      } else {
        String s = word.substring(i, i + cc);
        if (!first && continuingSubwordPrefix != null) {
          s = continuingSubwordPrefix + s;
        }
        if (last && endOfWordSuffix != null) {
          s = s + endOfWordSuffix;
        }
        id = vocab.id(s);
      }
      i += cc;
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
        throw new org.promptrecovery4j.tokenizer.TokenizerException("BPE: character U+" + Integer.toHexString(cp).toUpperCase()
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

  /** Test hook: merges a copy of {@code ids} with the scan (heap=false) or the heap algorithm. */
  int[] mergeForTest(int[] ids, boolean heap) {
    int[] c = ids.clone();
    int n = heap ? mergeWithHeap(c, c.length) : mergeScan(c, c.length);
    return java.util.Arrays.copyOf(c, n);
  }

  private int mergeScan(int[] ids, int n) {
    return n < 2 ? n : scan(ids, n);
  }

  /** Merges in place; returns the new length. */
  private int merge(int[] ids, int n) {
    if (n < 2) {
      return n;
    }
    if (n > 48) {
      return mergeWithHeap(ids, n);
    }
    return scan(ids, n);
  }

  /** Repeatedly merges the leftmost pair of lowest rank (for short words). */
  private int scan(int[] ids, int n) {
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

  /**
   * The same merges for long words in O(n log n): a binary heap of (rank, position) keys; an entry
   * is used only if the pair now at that position still has that rank; symbols in a linked list.
   */
  private int mergeWithHeap(int[] ids, int n) {
    int[] next = new int[n];
    int[] prev = new int[n];
    boolean[] dead = new boolean[n];
    for (int i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    long[] heap = new long[n * 3 + 8];
    int size = 0;
    for (int i = 0; i + 1 < n; i++) {
      int slot = merges.find(ids[i], ids[i + 1]);
      if (slot >= 0) {
        heap[size++] = key(merges.rank(slot), i);
      }
    }
    // heapify
    for (int i = size / 2 - 1; i >= 0; i--) {
      siftDown(heap, size, i);
    }
    while (size > 0) {
      long top = heap[0];
      heap[0] = heap[--size];
      siftDown(heap, size, 0);
      int pos = (int) top;
      int rank = (int) (top >>> 32);
      int r = next[pos];
      if (dead[pos] || r < 0) {
        continue;
      }
      int slot = merges.find(ids[pos], ids[r]);
      if (slot < 0 || merges.rank(slot) != rank) {
        continue;
      }
      ids[pos] = merges.merged(slot);
      dead[r] = true;
      next[pos] = next[r];
      if (next[r] >= 0) {
        prev[next[r]] = pos;
      }
      if (size + 2 > heap.length) {
        heap = java.util.Arrays.copyOf(heap, heap.length * 2);
      }
      if (prev[pos] >= 0) {
        int s2 = merges.find(ids[prev[pos]], ids[pos]);
        if (s2 >= 0) {
          heap[size] = key(merges.rank(s2), prev[pos]);
          siftUp(heap, size++);
        }
      }
      if (next[pos] >= 0) {
        int s3 = merges.find(ids[pos], ids[next[pos]]);
        if (s3 >= 0) {
          heap[size] = key(merges.rank(s3), pos);
          siftUp(heap, size++);
        }
      }
    }
    int m = 0;
    for (int i = 0; i >= 0; i = next[i]) {
      ids[m++] = ids[i];
    }
    return m;
  }

  private static long key(int rank, int pos) {
    return ((long) rank << 32) | pos;
  }

  private static void siftDown(long[] h, int size, int i) {
    long x = h[i];
    while (true) {
      int c = 2 * i + 1;
      if (c >= size) {
        break;
      }
      if (c + 1 < size && h[c + 1] < h[c]) {
        c++;
      }
      if (h[c] >= x) {
        break;
      }
      h[i] = h[c];
      i = c;
    }
    h[i] = x;
  }

  private static void siftUp(long[] h, int i) {
    long x = h[i];
    while (i > 0) {
      int p = (i - 1) / 2;
      if (h[p] <= x) {
        break;
      }
      h[i] = h[p];
      i = p;
    }
    h[i] = x;
  }

  private void lookup(int a, int b, int[] ranks, int[] newIds, int i) {
    int slot = merges.find(a, b);
    if (slot < 0) {
      ranks[i] = Integer.MAX_VALUE;
    } else {
      ranks[i] = merges.rank(slot);
      newIds[i] = merges.merged(slot);
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
}
