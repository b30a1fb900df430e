package org.promptrecovery4j.tokenizer.decoder;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.promptrecovery4j.tokenizer.pretokenizer.ByteLevelAlphabet;

/** HF's decoders. */
public final class Decoders {
  private Decoders() {}

  /** UTF-8 decoding with U+FFFD for invalid sequences (Rust's from_utf8_lossy). */
  public static String lossyUtf8(byte[] b, int len) {
    return new String(b, 0, len, StandardCharsets.UTF_8);
  }

  /**
   * Byte-level: each token's characters map back to bytes; the bytes of the whole sequence decode
   * as UTF-8 (lossy). A token holding a character outside the alphabet is kept as its own UTF-8
   * (tokenizers 0.23), or such characters are dropped ({@code dropUnknown}, older releases and
   * what transformers' slow GPT-2 tokenizers produced).
   */
  public record ByteLevel(boolean dropUnknown) implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      for (String t : tokens) {
        boolean all = true;
        if (!dropUnknown) {
          for (int i = 0; i < t.length(); i++) {
            if (ByteLevelAlphabet.byteOf(t.charAt(i)) < 0) {
              all = false;
              break;
            }
          }
        }
        if (all) {
          for (int i = 0; i < t.length(); i++) {
            int b = ByteLevelAlphabet.byteOf(t.charAt(i));
            if (b >= 0) {
              bytes.write(b);
            }
          }
        } else {
          bytes.writeBytes(t.getBytes(StandardCharsets.UTF_8));
        }
      }
      byte[] arr = bytes.toByteArray();
      return List.of(lossyUtf8(arr, arr.length));
    }
  }

  /** Metaspace: ▁ back to spaces; the first token loses its leading space unless scheme never. */
  public record Metaspace(char replacement, boolean stripFirst) implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
      List<String> out = new ArrayList<>(tokens.size());
      for (int i = 0; i < tokens.size(); i++) {
        String t = tokens.get(i).replace(replacement, ' ');
        if (i == 0 && stripFirst && t.startsWith(" ")) {
          t = t.substring(1);
        }
        out.add(t);
      }
      return out;
    }
  }

  public record Replace(Pattern pattern, String content) implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
      List<String> out = new ArrayList<>(tokens.size());
      for (String t : tokens) {
        out.add(org.promptrecovery4j.tokenizer.FileRegex.replaceAll(pattern, t, content));
      }
      return out;
    }
  }

  /** Runs of {@code <0xXX>} tokens become the UTF-8 text of their bytes (U+FFFD per byte if invalid). */
  public record ByteFallback() implements Decoder {
    public static int byteToken(String t) {
      if (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
        try {
          return Integer.parseInt(t.substring(3, 5), 16);
        } catch (NumberFormatException e) {
          return -1;
        }
      }
      return -1;
    }

    @Override
    public List<String> decodeChain(List<String> tokens) {
      List<String> out = new ArrayList<>(tokens.size());
      ByteArrayOutputStream pending = new ByteArrayOutputStream();
      int pendingCount = 0;
      for (String t : tokens) {
        int b = byteToken(t);
        if (b >= 0) {
          pending.write(b);
          pendingCount++;
          continue;
        }
        if (pendingCount > 0) {
          flush(pending.toByteArray(), pendingCount, out);
          pending.reset();
          pendingCount = 0;
        }
        out.add(t);
      }
      if (pendingCount > 0) {
        flush(pending.toByteArray(), pendingCount, out);
      }
      return out;
    }

    private static void flush(byte[] b, int count, List<String> out) {
      try {
        out.add(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString());
      } catch (CharacterCodingException e) {
        for (int i = 0; i < count; i++) {
          out.add("\uFFFD");
        }
      }
    }
  }

  public record Fuse() implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
      return List.of(String.join("", tokens));
    }
  }

  /** Removes up to {@code start} leading and {@code stop} trailing occurrences of a char per token. */
  public record Strip(char content, int start, int stop) implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
      List<String> out = new ArrayList<>(tokens.size());
      for (String t : tokens) {
        int[] cps = t.codePoints().toArray();
        int s = 0;
        for (int i = 0; i < start && i < cps.length; i++) {
          if (cps[i] == content) {
            s = i + 1;
          } else {
            break;
          }
        }
        int e = cps.length;
        for (int i = 0; i < stop; i++) {
          int idx = cps.length - i - 1;
          if (idx < s || idx < 0) {
            break;
          }
          if (cps[idx] == content) {
            e = idx;
          } else {
            break;
          }
        }
        out.add(new String(cps, s, Math.max(0, e - s)));
      }
      return out;
    }
  }

  /** WordPiece: "##" continuation joins, other tokens get a space; optional cleanup. */
  public record WordPiece(String prefix, boolean cleanup) implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
      List<String> out = new ArrayList<>(tokens.size());
      for (int i = 0; i < tokens.size(); i++) {
        String t = tokens.get(i);
        if (i != 0) {
          if (t.startsWith(prefix)) {
            t = t.substring(prefix.length());
          } else {
            t = " " + t;
          }
        }
        if (cleanup) {
          t = cleanupTokenization(t);
        }
        out.add(t);
      }
      return out;
    }
  }

  /** BPE with an end-of-word suffix: the suffix becomes a space (none after the last token). */
  public record BpeSuffix(String suffix) implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
      List<String> out = new ArrayList<>(tokens.size());
      for (int i = 0; i < tokens.size(); i++) {
        out.add(tokens.get(i).replace(suffix, i == tokens.size() - 1 ? "" : " "));
      }
      return out;
    }
  }

  public record Sequence(List<Decoder> steps) implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
      for (Decoder d : steps) {
        tokens = d.decodeChain(tokens);
      }
      return tokens;
    }
  }

  /** transformers' clean_up_tokenization: removes spaces before punctuation and contractions. */
  public static String cleanupTokenization(String s) {
    return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
        .replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s").replace(" 've", "'ve")
        .replace(" 're", "'re");
  }
}
