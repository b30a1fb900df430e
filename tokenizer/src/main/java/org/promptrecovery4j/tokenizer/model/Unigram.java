package org.promptrecovery4j.tokenizer.model;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.promptrecovery4j.tokenizer.Token;

/**
 * Unigram language model tokenization (SentencePiece / HF): the Viterbi path of highest total
 * score over the pieces of the vocabulary; characters no piece covers become unk (score
 * min - 10), fused when consecutive, or byte tokens with byte fallback.
 */
public final class Unigram implements Model {
  private static final double UNK_PENALTY = 10.0;

  private final String[] pieces;
  private final double[] scores;
  private final Map<String, Integer> toId;
  private final int unkId;
  private final boolean byteFallback;
  private final boolean fuseUnk;
  private final double unkScore;
  private final CharTrie trie = new CharTrie();
  private final int[] byteIds = new int[256];
  private boolean unkValueIsText = true;
  private final boolean[] excluded;

  /**
   * A copy whose Viterbi search never matches {@code ids} (e.g. special tokens that the text must spell
   * out as characters, as SentencePiece never matches its control pieces).
   */
  public Unigram excluding(java.util.Collection<Integer> ids) {
    boolean[] ex = excluded.clone();
    for (int id : ids) {
      if (id >= 0 && id < ex.length) {
        ex[id] = true;
      }
    }
    java.util.List<Double> sc = new java.util.ArrayList<>(scores.length);
    for (double d : scores) {
      sc.add(d);
    }
    Unigram u = new Unigram(java.util.Arrays.asList(pieces), sc, unkId, byteFallback, fuseUnk, ex);
    u.unkValueIsText = unkValueIsText;
    return u;
  }

  /** HF reports an unknown piece as the text it covers; SentencePiece as the unk piece. */
  public Unigram withUnkAsPiece() {
    unkValueIsText = false;
    return this;
  }

  public Unigram(List<String> pieces, List<Double> scores, int unkId, boolean byteFallback, boolean fuseUnk) {
    this(pieces, scores, unkId, byteFallback, fuseUnk, null);
  }

  /**
   * @param excluded ids that must not be matched by the Viterbi search (control / unused pieces
   *     of a SentencePiece model); null for none
   */
  public Unigram(List<String> pieces, List<Double> scores, int unkId, boolean byteFallback, boolean fuseUnk,
      boolean[] excluded) {
    this.pieces = pieces.toArray(new String[0]);
    this.excluded = excluded == null ? new boolean[this.pieces.length] : excluded.clone();
    this.scores = new double[scores.size()];
    this.toId = new HashMap<>(pieces.size() * 2);
    this.unkId = unkId;
    this.byteFallback = byteFallback;
    this.fuseUnk = fuseUnk;
    double min = Double.MAX_VALUE;
    for (int i = 0; i < this.pieces.length; i++) {
      this.scores[i] = scores.get(i);
      toId.putIfAbsent(this.pieces[i], i);
      min = Math.min(min, this.scores[i]);
      if (excluded != null && excluded[i]) {
        continue;
      }
      if (this.pieces[i].isEmpty()) {
        continue;
      }
      trie.insert(this.pieces[i], i);
    }
    this.unkScore = min - UNK_PENALTY;
    if (unkId < 0 || unkId >= this.pieces.length) {
      throw new IllegalArgumentException("Unigram: unk_id " + unkId + " outside the vocabulary of " + this.pieces.length);
    }
    for (int b = 0; b < 256; b++) {
      Integer id = toId.get(String.format("<0x%02X>", b));
      byteIds[b] = id == null ? -1 : id;
    }
  }

  @Override
  public void tokenize(String word, List<Token> out) {
    int n = word.length();
    if (n == 0) {
      return;
    }
    double[] best = new double[n + 1];
    int[] prevPos = new int[n + 1];
    int[] prevId = new int[n + 1];
    boolean[] reached = new boolean[n + 1];
    reached[0] = true;
    for (int start = 0; start < n; ) {
      if (!reached[start]) {
        start++;
        continue;
      }
      int cp = word.codePointAt(start);
      int charEnd = start + Character.charCount(cp);
      double base = best[start];
      boolean singleChar = false;
      int node = 0;
      for (int k = start; k < n; k++) {
        node = trie.child(node, word.charAt(k));
        if (node < 0) {
          break;
        }
        int pieceId = trie.value(node);
        if (pieceId >= 0) {
          int end = k + 1;
          // never end inside a surrogate pair
          if (end < n && Character.isLowSurrogate(word.charAt(end)) && Character.isHighSurrogate(word.charAt(k))) {
            continue;
          }
          double sc = base + scores[pieceId];
          if (!reached[end] || sc > best[end]) {
            best[end] = sc;
            reached[end] = true;
            prevPos[end] = start;
            prevId[end] = pieceId;
          }
          if (end == charEnd) {
            singleChar = true;
          }
        }
      }
      if (!singleChar) {
        double sc = base + unkScore;
        if (!reached[charEnd] || sc > best[charEnd]) {
          best[charEnd] = sc;
          reached[charEnd] = true;
          prevPos[charEnd] = start;
          prevId[charEnd] = unkId;
        }
      }
      start = charEnd;
    }
    // backtrack
    List<int[]> path = new ArrayList<>();
    int pos = n;
    while (pos > 0) {
      path.add(new int[] {prevPos[pos], pos, prevId[pos]});
      pos = prevPos[pos];
    }
    int unkStart = -1;
    int unkEnd = -1;
    for (int i = path.size() - 1; i >= 0; i--) {
      int[] p = path.get(i);
      if (p[2] == unkId && fuseUnk) {
        if (unkStart < 0) {
          unkStart = p[0];
        }
        unkEnd = p[1];
        continue;
      }
      if (unkStart >= 0) {
        emitUnk(word.substring(unkStart, unkEnd), out);
        unkStart = -1;
      }
      if (p[2] == unkId) {
        emitUnk(word.substring(p[0], p[1]), out);
      } else {
        out.add(new Token(p[2], pieces[p[2]]));
      }
    }
    if (unkStart >= 0) {
      emitUnk(word.substring(unkStart, unkEnd), out);
    }
  }

  private void emitUnk(String s, List<Token> out) {
    if (byteFallback) {
      byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
      boolean all = true;
      for (byte b : bytes) {
        if (byteIds[b & 0xFF] < 0) {
          all = false;
          break;
        }
      }
      if (all) {
        for (byte b : bytes) {
          int id = byteIds[b & 0xFF];
          out.add(new Token(id, pieces[id]));
        }
        return;
      }
    }
    out.add(new Token(unkId, unkValueIsText ? s : pieces[unkId]));
  }

  @Override
  public int tokenToId(String token) {
    Integer i = toId.get(token);
    return i == null ? -1 : i;
  }

  @Override
  public String idToToken(int id) {
    return id >= 0 && id < pieces.length ? pieces[id] : null;
  }

  @Override
  public int vocabSize() {
    return pieces.length;
  }

  public int unkId() {
    return unkId;
  }
}
