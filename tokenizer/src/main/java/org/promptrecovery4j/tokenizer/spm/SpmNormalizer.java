package org.promptrecovery4j.tokenizer.spm;

import org.promptrecovery4j.tokenizer.normalizer.Normalizer;
import org.promptrecovery4j.tokenizer.normalizer.Precompiled;

/**
 * SentencePiece's normalizer: the precompiled charsmap (longest byte-prefix match), then
 * whitespace handling (remove extra whitespace, dummy prefix, escape spaces as ▁).
 */
public record SpmNormalizer(Precompiled charsmap, boolean removeExtraWhitespaces, boolean addDummyPrefix,
    boolean escapeWhitespaces) implements Normalizer {
  @Override
  public String normalize(String text) {
    String s = charsmap == null ? text : charsmap.normalize(text);
    if (removeExtraWhitespaces) {
      StringBuilder sb = new StringBuilder(s.length());
      boolean prevSpace = true;
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c == ' ') {
          if (!prevSpace) {
            sb.append(' ');
          }
          prevSpace = true;
        } else {
          sb.append(c);
          prevSpace = false;
        }
      }
      int e = sb.length();
      while (e > 0 && sb.charAt(e - 1) == ' ') {
        e--;
      }
      s = sb.substring(0, e);
    }
    if (s.isEmpty()) {
      return s;
    }
    if (addDummyPrefix) {
      s = " " + s;
    }
    if (escapeWhitespaces) {
      s = s.replace(' ', '\u2581');
    }
    return s;
  }
}
