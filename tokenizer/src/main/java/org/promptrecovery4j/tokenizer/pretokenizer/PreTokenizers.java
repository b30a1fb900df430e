package org.promptrecovery4j.tokenizer.pretokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.promptrecovery4j.tokenizer.normalizer.BertCharClasses;
import org.promptrecovery4j.tokenizer.normalizer.Normalizers;

/** The HuggingFace {@code tokenizers} pre-tokenizers. */
public final class PreTokenizers {
  private PreTokenizers() {}

  /** GPT-2's split regex; \s, \p{L}, \p{N} are Unicode-aware as in Oniguruma. */
  public static final Pattern GPT2_PATTERN = Pattern.compile(
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
      Pattern.UNICODE_CHARACTER_CLASS);

  /** Spans (start, end, isMatch) of regex matches and the gaps between them. */
  static List<int[]> regexSpans(Pattern p, String s, boolean invert) {
    return regexSpans(p.matcher(s), s, invert);
  }

  static List<int[]> regexSpans(Matcher m, String s, boolean invert) {
    List<int[]> spans = new ArrayList<>();
    int prev = 0;
    while (m.find()) {
      if (m.end() == m.start()) {
        continue;
      }
      if (prev < m.start()) {
        spans.add(new int[] {prev, m.start(), invert ? 1 : 0});
      }
      spans.add(new int[] {m.start(), m.end(), invert ? 0 : 1});
      prev = m.end();
    }
    if (prev < s.length()) {
      spans.add(new int[] {prev, s.length(), invert ? 1 : 0});
    }
    return spans;
  }

  /** Spans where each code point satisfying {@code pred} is its own match. */
  static List<int[]> charSpans(String s, IntPredicate pred) {
    List<int[]> spans = new ArrayList<>();
    int prev = 0;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      int n = Character.charCount(cp);
      if (pred.test(cp)) {
        if (prev < i) {
          spans.add(new int[] {prev, i, 0});
        }
        spans.add(new int[] {i, i + n, 1});
        prev = i + n;
      }
      i += n;
    }
    if (prev < s.length()) {
      spans.add(new int[] {prev, s.length(), 0});
    }
    return spans;
  }

  public record ByteLevel(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {
    @Override
    public void split(String piece, boolean atStart, List<String> out) {
      String s = piece;
      if (addPrefixSpace && !s.startsWith(" ")) {
        s = " " + s;
      }
      if (useRegex) {
        Matcher m = GPT2_PATTERN.matcher(s);
        int prev = 0;
        while (m.find()) {
          if (prev < m.start()) {
            out.add(ByteLevelAlphabet.encode(s.substring(prev, m.start())));
          }
          if (m.end() > m.start()) {
            out.add(ByteLevelAlphabet.encode(s.substring(m.start(), m.end())));
          }
          prev = m.end();
        }
        if (prev < s.length()) {
          out.add(ByteLevelAlphabet.encode(s.substring(prev)));
        }
      } else if (!s.isEmpty()) {
        out.add(ByteLevelAlphabet.encode(s));
      }
    }
  }

  public enum PrependScheme { ALWAYS, FIRST, NEVER }

  public record Metaspace(String replacement, PrependScheme prependScheme, boolean splitOnReplacement)
      implements PreTokenizer {
    @Override
    public void split(String piece, boolean atStart, List<String> out) {
      String s = piece.replace(" ", replacement);
      if (!s.startsWith(replacement)) {
        if (prependScheme == PrependScheme.ALWAYS || (prependScheme == PrependScheme.FIRST && atStart)) {
          s = replacement + s;
        }
      }
      if (splitOnReplacement) {
        List<int[]> spans = regexSpans(Pattern.compile(Pattern.quote(replacement)), s, false);
        SplitBehavior.MERGED_WITH_NEXT.apply(s, spans, out);
      } else if (!s.isEmpty()) {
        out.add(s);
      }
    }
  }

  public record WhitespaceSplit() implements PreTokenizer {
    @Override
    public void split(String piece, boolean atStart, List<String> out) {
      SplitBehavior.REMOVED.apply(piece, charSpans(piece, Normalizers::isWhitespace), out);
    }
  }

  public record Whitespace() implements PreTokenizer {
    private static final Pattern P = Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS);

    @Override
    public void split(String piece, boolean atStart, List<String> out) {
      SplitBehavior.REMOVED.apply(piece, regexSpans(P, piece, true), out);
    }
  }

  public record Split(Pattern pattern, SplitBehavior behavior, boolean invert) implements PreTokenizer {
    @Override
    public void split(String piece, boolean atStart, List<String> out) {
      List<int[]> spans;
      try {
        spans = regexSpans(org.promptrecovery4j.tokenizer.FileRegex.matcher(pattern, piece), piece, invert);
      } catch (StackOverflowError e) {
        throw org.promptrecovery4j.tokenizer.FileRegex.tooDeep(pattern, piece);
      }
      behavior.apply(piece, spans, out);
    }
  }

  /**
   * Punctuation as HF's BertPreTokenizer and Punctuation pre-tokenizer see it: every ASCII symbol
   * (33-47, 58-64, 91-96, 123-126, so also $ + < = > ^ ` | ~) and the Unicode punctuation categories
   * (P*) of HF's own tables ({@link BertCharClasses}), not the JVM's.
   */
  public static boolean isPunctuation(int cp) {
    if (cp < 128) {
      return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
    }
    return BertCharClasses.isUnicodePunctuation(cp);
  }

  public record Punctuation(SplitBehavior behavior) implements PreTokenizer {
    @Override
    public void split(String piece, boolean atStart, List<String> out) {
      behavior.apply(piece, charSpans(piece, PreTokenizers::isPunctuation), out);
    }
  }

  public record Digits(boolean individualDigits) implements PreTokenizer {
    @Override
    public void split(String piece, boolean atStart, List<String> out) {
      IntPredicate numeric = cp -> {
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
      };
      (individualDigits ? SplitBehavior.ISOLATED : SplitBehavior.CONTIGUOUS).apply(piece, charSpans(piece, numeric), out);
    }
  }

  public record BertPreTokenizer() implements PreTokenizer {
    @Override
    public void split(String piece, boolean atStart, List<String> out) {
      List<String> words = new ArrayList<>();
      new WhitespaceSplit().split(piece, atStart, words);
      for (String w : words) {
        SplitBehavior.ISOLATED.apply(w, charSpans(w, PreTokenizers::isPunctuation), out);
      }
    }
  }

  public record Sequence(List<PreTokenizer> steps) implements PreTokenizer {
    @Override
    public void split(String piece, boolean atStart, List<String> out) {
      List<String> cur = new ArrayList<>();
      cur.add(piece);
      for (PreTokenizer p : steps) {
        List<String> next = new ArrayList<>();
        for (int i = 0; i < cur.size(); i++) {
          p.split(cur.get(i), atStart && i == 0, next);
        }
        cur = next;
      }
      out.addAll(cur);
    }
  }
}
