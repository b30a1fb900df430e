package org.promptrecovery4j.tokenizer.pretokenizer;

import java.util.ArrayList;
import java.util.List;

/** What a split does with the delimiters it found (HF's SplitDelimiterBehavior). */
public enum SplitBehavior {
  REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

  public static SplitBehavior parse(String s) {
    return switch (s) {
      case "Removed" -> REMOVED;
      case "Isolated" -> ISOLATED;
      case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
      case "MergedWithNext" -> MERGED_WITH_NEXT;
      case "Contiguous" -> CONTIGUOUS;
      default -> throw new IllegalArgumentException("unknown split behavior: " + s);
    };
  }

  /**
   * Applies this behaviour to consecutive spans covering {@code s}: bounds[i]..bounds[i+1] with
   * isMatch[i]. Appends the non-empty pieces to out.
   */
  public void apply(String s, List<int[]> spans, List<String> out) {
    List<int[]> acc = new ArrayList<>();
    switch (this) {
      case ISOLATED -> acc.addAll(spans);
      case REMOVED -> {
        for (int[] sp : spans) {
          if (sp[2] == 0) {
            acc.add(sp);
          }
        }
      }
      case MERGED_WITH_PREVIOUS -> {
        boolean prev = false;
        for (int[] sp : spans) {
          if (sp[2] == 1 && !prev && !acc.isEmpty()) {
            acc.get(acc.size() - 1)[1] = sp[1];
          } else {
            acc.add(sp.clone());
          }
          prev = sp[2] == 1;
        }
      }
      case MERGED_WITH_NEXT -> {
        boolean prev = false;
        for (int i = spans.size() - 1; i >= 0; i--) {
          int[] sp = spans.get(i);
          if (sp[2] == 1 && !prev && !acc.isEmpty()) {
            acc.get(acc.size() - 1)[0] = sp[0];
          } else {
            acc.add(sp.clone());
          }
          prev = sp[2] == 1;
        }
        java.util.Collections.reverse(acc);
      }
      case CONTIGUOUS -> {
        boolean prev = false;
        for (int[] sp : spans) {
          if (sp[2] == 1 && prev && !acc.isEmpty()) {
            acc.get(acc.size() - 1)[1] = sp[1];
          } else {
            acc.add(sp.clone());
          }
          prev = sp[2] == 1;
        }
      }
    }
    for (int[] sp : acc) {
      if (sp[1] > sp[0]) {
        out.add(s.substring(sp[0], sp[1]));
      }
    }
  }
}
