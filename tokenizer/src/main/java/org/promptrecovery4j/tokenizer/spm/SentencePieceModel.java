package org.promptrecovery4j.tokenizer.spm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.promptrecovery4j.core.ProtoWire;

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
    ProtoWire r = wire(data);
    while (r.hasMore()) {
      long key = r.varint();
      int field = (int) (key >>> 3);
      int wire = (int) (key & 7);
      if (field == 1 && wire == 2) {
        ProtoWire p = r.sub("piece");
        String piece = "";
        float score = 0f;
        int type = NORMAL;
        while (p.hasMore()) {
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
        ProtoWire t = r.sub("trainer_spec");
        while (t.hasMore()) {
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
        ProtoWire n = r.sub("normalizer_spec");
        while (n.hasMore()) {
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

  /** A protobuf reader of one (sub)message; errors are plain named errors that {@link #read} prefixes with the file. */
  private static ProtoWire wire(byte[] data) {
    return new ProtoWire(ByteBuffer.wrap(data), 0, data.length, "model", IllegalArgumentException::new);
  }
}
