package org.promptrecovery4j.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.promptrecovery4j.tokenizer.normalizer.Normalizer;
import org.promptrecovery4j.tokenizer.normalizer.Normalizers;

/**
 * The added tokens of a tokenizer and how they are found in text.
 *
 * <p>{@link Matching#HF_FAST}: leftmost-longest matching as HF {@code tokenizers} does (first the
 * non-normalized tokens on the raw text, then the normalized ones on the normalized text), with
 * lstrip/rstrip eating whitespace and single_word requiring word boundaries.
 *
 * <p>{@link Matching#LEGACY_SLOW}: what transformers' slow tokenizers produced when the reference
 * vectors were made (phi-2's CodeGenTokenizer): a token is looked for after one optional
 * whitespace character, which then stays with the text before it (so three spaces before a word
 * become " " + the two-space token).
 */
public final class AddedVocabulary {
  public enum Matching { HF_FAST, LEGACY_SLOW }

  private static final String LEGACY_SPACES = " \t\n\r\f\u000B";

  private final Map<String, AddedToken> byContent = new LinkedHashMap<>();
  private final Map<Integer, AddedToken> byId = new HashMap<>();
  private final Matching matching;
  private Node rawTrie;
  private Node normTrie;

  private static final class Node {
    Map<Character, Node> next;
    AddedToken token;
  }

  /** First characters of any token (a quick filter before the trie). */
  private final java.util.BitSet firstChars = new java.util.BitSet(65536);

  private final Normalizer normalizer;
  private final boolean matchSpecial;

  public AddedVocabulary(List<AddedToken> tokens, Matching matching, Normalizer normalizer) {
    this(tokens, matching, normalizer, true);
  }

  private AddedVocabulary(List<AddedToken> tokens, Matching matching, Normalizer normalizer, boolean matchSpecial) {
    this.matching = matching;
    this.normalizer = normalizer;
    this.matchSpecial = matchSpecial;
    for (AddedToken t : tokens) {
      byContent.put(t.content(), t);
      byId.put(t.id(), t);
    }
    rawTrie = new Node();
    normTrie = new Node();
    for (AddedToken t : byContent.values()) {
      if (t.content().isEmpty() || (t.special() && !matchSpecial)) {
        continue;
      }
      if (matching == Matching.HF_FAST && t.normalized() && normalizer != null) {
        insert(normTrie, normalizer.normalize(t.content()), t);
      } else {
        insert(rawTrie, t.content(), t);
      }
    }
  }

  private void insert(Node root, String s, AddedToken t) {
    if (s.isEmpty()) {
      return;
    }
    firstChars.set(s.charAt(0));
    Node n = root;
    for (int i = 0; i < s.length(); i++) {
      if (n.next == null) {
        n.next = new HashMap<>(4);
      }
      n = n.next.computeIfAbsent(s.charAt(i), c -> new Node());
    }
    if (n.token == null) {
      n.token = t;
    }
  }

  /**
   * The same tokens, but special ones are no longer matched inside text (they stay known for decoding
   * and for the post-processor): as {@code split_special_tokens=True}, or a SentencePiece tokenizer
   * that reads {@code </s>} in text as characters.
   */
  public AddedVocabulary withoutSpecialMatching() {
    return new AddedVocabulary(List.copyOf(byContent.values()), matching, normalizer, false);
  }

  public List<AddedToken> tokens() {
    return new ArrayList<>(byContent.values());
  }

  public AddedToken byId(int id) {
    return byId.get(id);
  }

  public AddedToken byContent(String content) {
    return byContent.get(content);
  }

  public boolean isEmpty() {
    return byContent.isEmpty();
  }

  public boolean hasNormalizedTokens() {
    return normTrie.next != null;
  }

  /** A piece of text: either an added token or text for the model, at an offset. */
  public record Segment(String text, AddedToken token, int offset) {}

  /** Splits text on the raw (non-normalized) tokens. */
  public List<Segment> splitRaw(String text, int baseOffset) {
    return split(text, baseOffset, rawTrie);
  }

  /** Splits normalized text on the normalized tokens. */
  public List<Segment> splitNormalized(String text, int baseOffset) {
    return split(text, baseOffset, normTrie);
  }

  /** Length of the longest token starting at {@code pos}, or 0; the token in found[0]. */
  private int longest(Node root, String s, int pos, AddedToken[] found) {
    if (!firstChars.get(s.charAt(pos))) {
      return 0;
    }
    Node n = root;
    int best = 0;
    for (int i = pos; i < s.length() && n.next != null; i++) {
      n = n.next.get(s.charAt(i));
      if (n == null) {
        break;
      }
      if (n.token != null) {
        best = i + 1 - pos;
        found[0] = n.token;
      }
    }
    return best;
  }

  private List<Segment> split(String s, int baseOffset, Node root) {
    List<Segment> out = new ArrayList<>();
    if (root.next == null || s.isEmpty()) {
      out.add(new Segment(s, null, baseOffset));
      return out;
    }
    int startOffset = 0;
    int pos = 0;
    AddedToken[] found = new AddedToken[1];
    while (pos < s.length()) {
      int start;
      int len;
      if (matching == Matching.LEGACY_SLOW) {
        char c = s.charAt(pos);
        len = 0;
        start = pos;
        if (LEGACY_SPACES.indexOf(c) >= 0 && !isSingleCharToken(root, c) && pos + 1 < s.length()) {
          len = longest(root, s, pos + 1, found);
          start = pos + 1;
        }
        if (len == 0) {
          start = pos;
          len = longest(root, s, pos, found);
        }
      } else {
        start = pos;
        len = longest(root, s, pos, found);
      }
      if (len == 0) {
        pos++;
        continue;
      }
      AddedToken t = found[0];
      int stop = start + len;
      pos = stop;
      if (t.singleWord()) {
        boolean startOk = start == 0 || !isWordChar(s.codePointBefore(start));
        boolean stopOk = stop == s.length() || !isWordChar(s.codePointAt(stop));
        if (!startOk || !stopOk) {
          continue;
        }
      }
      if (t.lstrip()) {
        if (matching == Matching.LEGACY_SLOW) {
          if (start > startOffset && start != pos - len) {
            start = start - 1;
          }
          int ns = start;
          while (ns > startOffset && Normalizers.isWhitespace(s.codePointBefore(ns))) {
            ns -= Character.charCount(s.codePointBefore(ns));
          }
          start = ns;
        } else {
          int ns = start;
          while (ns > 0 && Normalizers.isWhitespace(s.codePointBefore(ns))) {
            ns -= Character.charCount(s.codePointBefore(ns));
          }
          start = Math.max(ns, startOffset);
        }
      }
      if (t.rstrip()) {
        while (stop < s.length() && Normalizers.isWhitespace(s.codePointAt(stop))) {
          stop += Character.charCount(s.codePointAt(stop));
        }
        if (matching == Matching.LEGACY_SLOW) {
          pos = stop;
        }
        // HF_FAST: the matcher goes on from the end of the match itself, so a later match may
        // overlap the stripped whitespace (HF tokenizers then emits both; reproduced as is)
      }
      if (startOffset < start) {
        out.add(new Segment(s.substring(startOffset, start), null, baseOffset + startOffset));
      }
      out.add(new Segment(s.substring(start, stop), t, baseOffset + start));
      startOffset = stop;
    }
    if (startOffset < s.length()) {
      out.add(new Segment(s.substring(startOffset), null, baseOffset + startOffset));
    }
    return out;
  }

  private static boolean isSingleCharToken(Node root, char c) {
    Node n = root.next == null ? null : root.next.get(c);
    return n != null && n.token != null;
  }

  private static boolean isWordChar(int cp) {
    return Character.isLetterOrDigit(cp) || cp == '_';
  }
}
