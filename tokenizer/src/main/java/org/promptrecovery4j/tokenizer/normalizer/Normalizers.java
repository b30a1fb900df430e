package org.promptrecovery4j.tokenizer.normalizer;

import java.text.Normalizer.Form;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** The HuggingFace {@code tokenizers} normalizers. */
public final class Normalizers {
  private Normalizers() {}

  /** NFC, NFD, NFKC or NFKD. */
  public record Unicode(Form form) implements Normalizer {
    @Override
    public String normalize(String text) {
      return java.text.Normalizer.normalize(text, form);
    }
  }

  /** Lowercases each character on its own (full mappings, no final-sigma context), as Rust does. */
  public record Lowercase() implements Normalizer {
    @Override
    public String normalize(String text) {
      return lowercase(text);
    }
  }

  /** Per-character full lowercase mapping (Rust's char::to_lowercase): "Σ" is always "σ". */
  public static String lowercase(String text) {
    StringBuilder sb = null;
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      int n = Character.charCount(cp);
      if (cp < 128) {
        if (sb != null) {
          sb.append((char) (cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
        } else if (cp >= 'A' && cp <= 'Z') {
          sb = new StringBuilder(text.length()).append(text, 0, i).append((char) (cp + 32));
        }
      } else {
        String one = text.substring(i, i + n);
        String low = one.toLowerCase(Locale.ROOT);
        if (sb == null && !low.equals(one)) {
          sb = new StringBuilder(text.length() + 4).append(text, 0, i);
        }
        if (sb != null) {
          sb.append(low);
        }
      }
      i += n;
    }
    return sb == null ? text : sb.toString();
  }

  /** Removes whitespace (Unicode White_Space) at the left and/or right. */
  public record Strip(boolean left, boolean right) implements Normalizer {
    @Override
    public String normalize(String text) {
      int s = 0;
      int e = text.length();
      if (left) {
        while (s < e) {
          int cp = text.codePointAt(s);
          if (!isWhitespace(cp)) {
            break;
          }
          s += Character.charCount(cp);
        }
      }
      if (right) {
        while (e > s) {
          int cp = text.codePointBefore(e);
          if (!isWhitespace(cp)) {
            break;
          }
          e -= Character.charCount(cp);
        }
      }
      return text.substring(s, e);
    }
  }

  /** Removes combining marks (general category M: Mn, Mc, Me), as HF's StripAccents (meant after NFD). */
  public record StripAccents() implements Normalizer {
    @Override
    public String normalize(String text) {
      StringBuilder sb = new StringBuilder(text.length());
      text.codePoints().filter(cp -> !isMark(cp)).forEach(sb::appendCodePoint);
      return sb.toString();
    }
  }

  static boolean isMark(int cp) {
    int t = Character.getType(cp);
    return t == Character.NON_SPACING_MARK || t == Character.COMBINING_SPACING_MARK || t == Character.ENCLOSING_MARK;
  }

  /** Replace a literal string or a regex with a content. */
  public record Replace(Pattern pattern, String content) implements Normalizer {
    public static Replace literal(String s, String content) {
      return new Replace(Pattern.compile(Pattern.quote(s)), content);
    }

    @Override
    public String normalize(String text) {
      return org.promptrecovery4j.tokenizer.FileRegex.replaceAll(pattern, text, content);
    }
  }

  /** Prepends a string to non-empty text. */
  public record Prepend(String prepend) implements Normalizer {
    @Override
    public String normalize(String text) {
      return text.isEmpty() ? text : prepend + text;
    }
  }

  public record Sequence(List<Normalizer> normalizers) implements Normalizer {
    @Override
    public String normalize(String text) {
      for (Normalizer n : normalizers) {
        text = n.normalize(text);
      }
      return text;
    }
  }

  /** BERT's normalizer: clean text, pad CJK characters, strip accents, lowercase. */
  public record Bert(boolean cleanText, boolean handleChineseChars, Boolean stripAccents, boolean lowercase)
      implements Normalizer {
    @Override
    public String normalize(String text) {
      StringBuilder sb = new StringBuilder(text.length());
      for (int i = 0; i < text.length(); ) {
        int cp = text.codePointAt(i);
        i += Character.charCount(cp);
        if (cleanText) {
          if (cp == 0 || cp == 0xFFFD || isBertControl(cp)) {
            continue;
          }
          if (isBertWhitespace(cp)) {
            sb.append(' ');
            continue;
          }
        }
        if (handleChineseChars && isChineseChar(cp)) {
          sb.append(' ').appendCodePoint(cp).append(' ');
          continue;
        }
        sb.appendCodePoint(cp);
      }
      String s = sb.toString();
      boolean strip = stripAccents == null ? lowercase : stripAccents;
      if (strip) {
        // BERT removes only non-spacing marks (Mn), as HF's own Unicode tables have them
        String nfd = java.text.Normalizer.normalize(s, Form.NFD);
        StringBuilder b = new StringBuilder(nfd.length());
        nfd.codePoints().filter(cp -> !BertCharClasses.isNonspacingMark(cp)).forEach(b::appendCodePoint);
        s = b.toString();
      }
      if (lowercase) {
        s = Normalizers.lowercase(s);
      }
      return s;
    }
  }

  static boolean isBertWhitespace(int cp) {
    return cp == '\t' || cp == '\n' || cp == '\r' || isWhitespace(cp);
  }

  /**
   * Cc, Cf or Co but not tab, newline or carriage return (those are whitespace to BERT). Unassigned code points
   * are not controls: HF keeps them (and so maps a word holding one to [UNK]); the categories are those of
   * HF's tables, not the JVM's, so characters newer than those tables are kept whatever the JVM knows of them.
   */
  static boolean isBertControl(int cp) {
    return cp != '\t' && cp != '\n' && cp != '\r' && BertCharClasses.isOther(cp);
  }

  public static boolean isChineseChar(int cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
        || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF)
        || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
  }

  /** Unicode White_Space, as Rust's {@code char::is_whitespace}. */
  public static boolean isWhitespace(int cp) {
    switch (cp) {
      case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0: case 0x1680:
      case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
        return true;
      default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
  }
}
