package org.promptrecovery4j.tokenizer.normalizer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SentencePiece's precompiled character map (a darts-clone double-array trie over UTF-8 bytes plus
 * a blob of NUL-terminated replacement strings), as T5 / sentence-t5 and DeBERTa-v3 ship it.
 *
 * <p>Two matching modes: {@link Mode#HF_GRAPHEMES} does what HF {@code tokenizers}' Precompiled
 * normalizer does (per grapheme cluster shorter than 6 bytes, the first prefix match replaces the
 * whole cluster, else per character); {@link Mode#SENTENCEPIECE} does what the sentencepiece
 * library does (longest byte-prefix match at each position).
 */
public final class Precompiled implements Normalizer {
  public enum Mode { HF_GRAPHEMES, SENTENCEPIECE }

  private static final Pattern GRAPHEME = Pattern.compile("\\X");

  private final int[] array;
  private final byte[] normalized;
  private final Mode mode;

  public Precompiled(byte[] charsmap, Mode mode) {
    this.mode = mode;
    if (charsmap.length < 4) {
      throw new IllegalArgumentException("precompiled charsmap too short: " + charsmap.length + " bytes");
    }
    ByteBuffer bb = ByteBuffer.wrap(charsmap).order(ByteOrder.LITTLE_ENDIAN);
    int trieSize = bb.getInt();
    if (trieSize < 0 || trieSize % 4 != 0 || 4 + trieSize > charsmap.length) {
      throw new IllegalArgumentException("precompiled charsmap: bad trie size " + trieSize);
    }
    array = new int[trieSize / 4];
    for (int i = 0; i < array.length; i++) {
      array[i] = bb.getInt();
    }
    normalized = new byte[charsmap.length - 4 - trieSize];
    bb.get(normalized);
  }

  public Precompiled(byte[] charsmap) {
    this(charsmap, Mode.HF_GRAPHEMES);
  }

  public Precompiled withMode(Mode m) {
    Precompiled p = this;
    return m == mode ? p : new Precompiled(array, normalized, m);
  }

  private Precompiled(int[] array, byte[] normalized, Mode mode) {
    this.array = array;
    this.normalized = normalized;
    this.mode = mode;
  }

  private static boolean hasLeaf(int unit) {
    return ((unit >>> 8) & 1) == 1;
  }

  private static int value(int unit) {
    return unit & 0x7FFFFFFF;
  }

  private static int label(int unit) {
    return unit & (0x80000000 | 0xFF);
  }

  private static int offset(int unit) {
    return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
  }

  /**
   * Common prefix search from {@code from} in {@code key}. Writes the value of the first (shortest)
   * match into out[0] and its length into out[1], and of the longest into out[2], out[3]. Returns
   * false when nothing matches.
   */
  private boolean prefixSearch(byte[] key, int from, int to, int[] out) {
    if (array.length == 0) {
      return false;
    }
    int nodePos = 0;
    int unit = array[nodePos];
    nodePos ^= offset(unit);
    boolean found = false;
    for (int i = from; i < to; i++) {
      int c = key[i] & 0xFF;
      if (c == 0) {
        break;
      }
      nodePos ^= c;
      if (nodePos < 0 || nodePos >= array.length) {
        break;
      }
      unit = array[nodePos];
      if (label(unit) != c) {
        break;
      }
      nodePos ^= offset(unit);
      if (hasLeaf(unit)) {
        if (nodePos < 0 || nodePos >= array.length) {
          break;
        }
        int v = value(array[nodePos]);
        if (!found) {
          out[0] = v;
          out[1] = i + 1 - from;
          found = true;
        }
        out[2] = v;
        out[3] = i + 1 - from;
      }
    }
    return found;
  }

  private String replacement(int index) {
    if (index < 0 || index >= normalized.length) {
      throw new org.promptrecovery4j.tokenizer.TokenizerException("precompiled charsmap: replacement offset " + index
          + " is outside its " + normalized.length + "-byte string table");
    }
    int end = index;
    while (end < normalized.length && normalized[end] != 0) {
      end++;
    }
    return new String(normalized, index, end - index, StandardCharsets.UTF_8);
  }

  @Override
  public String normalize(String text) {
    return mode == Mode.SENTENCEPIECE ? normalizeSpm(text) : normalizeHf(text);
  }

  private String normalizeHf(String text) {
    StringBuilder sb = new StringBuilder(text.length() + 8);
    Matcher m = GRAPHEME.matcher(text);
    int[] out = new int[4];
    while (m.find()) {
      String g = m.group();
      byte[] gb = g.getBytes(StandardCharsets.UTF_8);
      if (gb.length < 6 && prefixSearch(gb, 0, gb.length, out)) {
        sb.append(replacement(out[0]));
        continue;
      }
      for (int i = 0; i < g.length(); ) {
        int cp = g.codePointAt(i);
        int n = Character.charCount(cp);
        String part = g.substring(i, i + n);
        byte[] pb = part.getBytes(StandardCharsets.UTF_8);
        if (prefixSearch(pb, 0, pb.length, out)) {
          sb.append(replacement(out[0]));
        } else {
          sb.append(part);
        }
        i += n;
      }
    }
    return sb.toString();
  }

  private String normalizeSpm(String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    StringBuilder sb = new StringBuilder(text.length() + 8);
    int[] out = new int[4];
    int i = 0;
    while (i < b.length) {
      if (prefixSearch(b, i, b.length, out)) {
        sb.append(replacement(out[2]));
        i += out[3];
      } else {
        int n = utf8Len(b[i]);
        if (n == 0 || i + n > b.length) {
          sb.append('\uFFFD');
          i += 1;
        } else {
          sb.append(new String(b, i, n, StandardCharsets.UTF_8));
          i += n;
        }
      }
    }
    return sb.toString();
  }

  private static int utf8Len(byte lead) {
    int c = lead & 0xFF;
    if (c < 0x80) {
      return 1;
    } else if (c >= 0xC2 && c < 0xE0) {
      return 2;
    } else if (c >= 0xE0 && c < 0xF0) {
      return 3;
    } else if (c >= 0xF0 && c < 0xF5) {
      return 4;
    }
    return 0;
  }
}
