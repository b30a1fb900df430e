package org.promptrecovery4j.recovery;

import java.util.List;

/**
 * Recovers the prompt that turned each row's {@code original_text} into its {@code rewritten_text}. One row or a
 * batch; a batch answer has one prompt per row, in order. An answer may be blank when a recoverer has nothing to
 * say for a row (e.g. a generator's output that cleaning rejected); {@link EnsembleRecoverer} never emits one.
 */
public interface PromptRecoverer extends AutoCloseable {

  /** A short name for reports and configs ({@code zero-shot}, {@code nearest-examples}, ...). */
  String name();

  /** The prompts of {@code rows}, one per row, in order. */
  List<String> recoverAll(List<KaggleRow> rows);

  /** The prompt of one row. */
  default String recover(KaggleRow row) {
    return recoverAll(List.of(row)).get(0);
  }

  /**
   * For evaluation on labelled rows: when on, a row is never answered from its own true prompt ({@code
   * rewrite_prompt}) or from an example that carries it (bank entries and examples equal to it are left out for that
   * row), so scores measure recovery rather than lookup. Recoverers without banks or examples ignore it.
   */
  default void excludeTruePrompts(boolean on) {}

  /** Frees the models this recoverer holds (nothing by default). */
  @Override
  default void close() {}
}
