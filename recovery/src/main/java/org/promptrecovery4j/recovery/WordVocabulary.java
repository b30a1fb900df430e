package org.promptrecovery4j.recovery;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The words a text search may use ({@link WordEditSearch}): the most frequent words of a prompt set, or the lines
 * of a word list. A word is a run of letters and digits, inner apostrophes and hyphens kept ({@code father's},
 * {@code 19th-century}); markdown and punctuation are not words. Frequency counts the prompts a word occurs in,
 * case-insensitively; each word is spelled as it is most often spelled (ties: the first seen), and the list is
 * ordered by frequency, then alphabetically.
 */
public final class WordVocabulary {

  private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}]+(?:['’-][\\p{L}\\p{N}]+)*");

  private WordVocabulary() {}

  /** The words of {@code text}, in order. */
  public static List<String> words(String text) {
    List<String> out = new ArrayList<>();
    Matcher m = WORD.matcher(text);
    while (m.find()) {
      out.add(m.group());
    }
    return out;
  }

  /** The {@code max} most frequent words of {@code texts} (see the class comment). */
  public static List<String> mostFrequent(List<String> texts, int max) {
    if (max < 1) {
      throw new IllegalArgumentException("a vocabulary needs at least 1 word, not " + max);
    }
    Map<String, Integer> documents = new HashMap<>();
    Map<String, Map<String, Integer>> spellings = new HashMap<>();
    Map<String, Integer> firstSeen = new HashMap<>();
    for (String t : texts) {
      Set<String> inThis = new HashSet<>();
      for (String w : words(t)) {
        String key = w.toLowerCase(Locale.ROOT);
        firstSeen.putIfAbsent(key, firstSeen.size());
        spellings.computeIfAbsent(key, k -> new java.util.LinkedHashMap<>()).merge(w, 1, Integer::sum);
        if (inThis.add(key)) {
          documents.merge(key, 1, Integer::sum);
        }
      }
    }
    List<String> keys = new ArrayList<>(documents.keySet());
    keys.sort((a, b) -> documents.get(a).equals(documents.get(b)) ? a.compareTo(b) : documents.get(b) - documents.get(a));
    List<String> out = new ArrayList<>();
    for (String k : keys.subList(0, Math.min(max, keys.size()))) {
      String best = null;
      int count = -1;
      for (Map.Entry<String, Integer> e : spellings.get(k).entrySet()) { // first seen wins a tie
        if (e.getValue() > count) {
          best = e.getKey();
          count = e.getValue();
        }
      }
      out.add(best);
    }
    return out;
  }

  /**
   * A word list file: one word (or short phrase) per line, trimmed, blank lines and repeats left out, in the file's
   * order, at most {@code max}.
   */
  public static List<String> read(Path file, int max) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new java.io.FileNotFoundException(file + ": no such word list");
    }
    LinkedHashSet<String> out = new LinkedHashSet<>();
    for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      String w = l.strip();
      if (!w.isEmpty() && out.size() < max) {
        out.add(w);
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(file + ": the word list is empty");
    }
    return new ArrayList<>(out);
  }
}
