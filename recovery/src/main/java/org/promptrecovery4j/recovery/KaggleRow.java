package org.promptrecovery4j.recovery;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One row of a Kaggle "LLM Prompt Recovery" CSV.
 *
 * @param id the row's id (never empty; unique in its file)
 * @param originalText {@code original_text}
 * @param rewrittenText {@code rewritten_text}
 * @param rewritePrompt {@code rewrite_prompt}, empty when the file has no such column (test files)
 * @param others every other column, name → value, in the file's column order
 * @param line the physical line of the file (1-based) the row starts on
 */
public record KaggleRow(String id, String originalText, String rewrittenText, Optional<String> rewritePrompt,
    Map<String, String> others, long line) {

  public KaggleRow {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(originalText, "originalText");
    Objects.requireNonNull(rewrittenText, "rewrittenText");
    Objects.requireNonNull(rewritePrompt, "rewritePrompt");
    others = Collections.unmodifiableMap(new LinkedHashMap<>(others));
  }

  /** This row with another {@code rewritten_text}. */
  public KaggleRow withRewrittenText(String text) {
    return new KaggleRow(id, originalText, text, rewritePrompt, others, line);
  }
}
