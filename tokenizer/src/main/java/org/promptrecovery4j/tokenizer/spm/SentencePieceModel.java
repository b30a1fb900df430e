package org.promptrecovery4j.tokenizer.spm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a SentencePiece {@code ModelProto} the tokenizer needs, read with a small
 * hand-written protobuf decoder (no protobuf dependency).
 */
public final class SentencePieceModel {
  public static final int NORMAL = 1;
  public static final int UNKNOWN = 2;
  public static final int CONTROL = 3;
  public static final int USER_DEFINED = 4;
  public static final int UNUSED = 5;
  public static final int BYTE = 6;

  public static final int UNIGRAM = 1;
  public static final int BPE = 2;
  public static final int WORD = 3;
  public static final int CHAR = 4;

  public final List<String> pieces = new ArrayList<>();
  public final List<Float> scores = new ArrayList<>();
  public final List<Integer> types = new ArrayList<>();
  public int modelType = UNIGRAM;
  public boolean byteFallback;
  public int unkId = 0;
  public int bosId = 1;
  public int eosId = 2;
  public int padId = -1;
  public boolean splitDigits;
  public boolean treatWhitespaceAsSuffix;
  public String normalizerName = "";
  public byte[] precompiledCharsmap = new byte[0];
  public boolean addDummyPrefix = true;
  public boolean removeExtraWhitespaces = true;
  public boolean escapeWhitespaces = true;

  public static SentencePieceModel read(Path file) throws IOException {
    byte[] data = Files.readAllBytes(file);
    try {
      return parse(data);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(file + ": not a SentencePiece model: " + e.getMessage(), e);
    }
  }

  public static SentencePieceModel parse(byte[] data) {
    SentencePieceModel m = new SentencePieceModel();
    Reader r = new Reader(data, 0, data.length);
    while (r.more()) {
      long key = r.varint();
      int field = (int) (key >>> 3);
      int wire = (int) (key & 7);
      if (field == 1 && wire == 2) {
        Reader p = r.sub();
        String piece = "";
        float score = 0f;
        int type = NORMAL;
        while (p.more()) {
          long k = p.varint();
          int f = (int) (k >>> 3);
          int w = (int) (k & 7);
          if (f == 1 && w == 2) {
            piece = p.string();
          } else if (f == 2 && w == 5) {
            score = Float.intBitsToFloat(p.fixed32());
          } else if (f == 3 && w == 0) {
            type = (int) p.varint();
          } else {
            p.skip(w);
          }
        }
        m.pieces.add(piece);
        m.scores.add(score);
        m.types.add(type);
      } else if (field == 2 && wire == 2) {
        Reader t = r.sub();
        while (t.more()) {
          long k = t.varint();
          int f = (int) (k >>> 3);
          int w = (int) (k & 7);
          if (w == 0) {
            long v = t.varint();
            switch (f) {
              case 3 -> m.modelType = (int) v;
              case 35 -> m.byteFallback = v != 0;
              case 40 -> m.unkId = (int) v;
              case 41 -> m.bosId = (int) v;
              case 42 -> m.eosId = (int) v;
              case 43 -> m.padId = (int) v;
              case 25 -> m.splitDigits = v != 0;
              case 24 -> m.treatWhitespaceAsSuffix = v != 0;
              default -> { }
            }
          } else {
            t.skip(w);
          }
        }
      } else if (field == 3 && wire == 2) {
        Reader n = r.sub();
        while (n.more()) {
          long k = n.varint();
          int f = (int) (k >>> 3);
          int w = (int) (k & 7);
          if (f == 1 && w == 2) {
            m.normalizerName = n.string();
          } else if (f == 2 && w == 2) {
            m.precompiledCharsmap = n.bytes();
          } else if (f == 3 && w == 0) {
            m.addDummyPrefix = n.varint() != 0;
          } else if (f == 4 && w == 0) {
            m.removeExtraWhitespaces = n.varint() != 0;
          } else if (f == 5 && w == 0) {
            m.escapeWhitespaces = n.varint() != 0;
          } else {
            n.skip(w);
          }
        }
      } else {
        r.skip(wire);
      }
    }
    if (m.pieces.isEmpty()) {
      throw new IllegalArgumentException("no pieces");
    }
    if (m.unkId < 0 || m.unkId >= m.pieces.size()) {
      throw new IllegalArgumentException("unk_id " + m.unkId + " is outside the " + m.pieces.size() + " pieces");
    }
    // sentencepiece ids: -1 disables; sanitize out-of-range
    if (m.bosId >= m.pieces.size()) {
      m.bosId = -1;
    }
    if (m.eosId >= m.pieces.size()) {
      m.eosId = -1;
    }
    return m;
  }

  private static final class Reader {
    private final byte[] b;
    private int pos;
    private final int end;

    Reader(byte[] b, int pos, int end) {
      this.b = b;
      this.pos = pos;
      this.end = end;
    }

    boolean more() {
      return pos < end;
    }

    long varint() {
      long v = 0;
      int shift = 0;
      while (true) {
        if (pos >= end) {
          throw new IllegalArgumentException("truncated varint at byte " + pos);
        }
        int x = b[pos++] & 0xFF;
        v |= (long) (x & 0x7F) << shift;
        if ((x & 0x80) == 0) {
          return v;
        }
        shift += 7;
        if (shift > 63) {
          throw new IllegalArgumentException("bad varint at byte " + pos);
        }
      }
    }

    int fixed32() {
      if (pos + 4 > end) {
        throw new IllegalArgumentException("truncated fixed32 at byte " + pos);
      }
      int v = (b[pos] & 0xFF) | (b[pos + 1] & 0xFF) << 8 | (b[pos + 2] & 0xFF) << 16 | (b[pos + 3] & 0xFF) << 24;
      pos += 4;
      return v;
    }

    int length() {
      long len = varint();
      if (len < 0 || pos + len > end) {
        throw new IllegalArgumentException("length " + len + " past the end at byte " + pos);
      }
      return (int) len;
    }

    Reader sub() {
      int len = length();
      Reader r = new Reader(b, pos, pos + len);
      pos += len;
      return r;
    }

    String string() {
      int len = length();
      String s = new String(b, pos, len, StandardCharsets.UTF_8);
      pos += len;
      return s;
    }

    byte[] bytes() {
      int len = length();
      byte[] out = java.util.Arrays.copyOfRange(b, pos, pos + len);
      pos += len;
      return out;
    }

    void skip(int wire) {
      switch (wire) {
        case 0 -> varint();
        case 1 -> pos += 8;
        case 2 -> {
          int len = length();
          pos += len;
        }
        case 5 -> pos += 4;
        default -> throw new IllegalArgumentException("unsupported wire type " + wire + " at byte " + pos);
      }
      if (pos > end) {
        throw new IllegalArgumentException("field past the end");
      }
    }
  }
}
