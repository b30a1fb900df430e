package org.promptrecovery4j.models;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The token ids a loaded model can embed: the rows of the embedding table it actually holds
 * ({@code model.embed_tokens.weight}, {@code embeddings.word_embeddings.weight}, {@code shared.weight}),
 * not {@code config.vocab_size}. Every path that feeds ids to a model checks them here first, so an id
 * outside {@code [0, size)} is an {@link IllegalArgumentException} naming the id, its row and position,
 * never a native gather outside the table (a SIGSEGV, or made-up rows for a negative id).
 *
 * @param model the model's name in messages (e.g. {@code Mistral}, {@code DeBERTa})
 * @param table the embedding tensor's HF name
 * @param size its number of rows
 */
public record Vocabulary(String model, String table, int size) {

  private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

  /**
   * The vocabulary of a loaded table of {@code rows} rows; when {@code config.json}'s vocab_size says
   * otherwise the table wins, with a warning (once).
   */
  public static Vocabulary of(String model, String table, long rows, int configVocabSize) {
    if (rows > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(model + ": " + table + " has " + rows + " rows, more than int ids can address");
    }
    if (rows != configVocabSize) {
      warnOnce(model + ": config.json vocab_size " + configVocabSize + " differs from the " + rows + " rows of "
          + table + "; token ids are checked against the table, [0, " + rows + ")");
    }
    return new Vocabulary(model, table, (int) rows);
  }

  public boolean contains(long id) {
    return id >= 0 && id < size;
  }

  /** Checks one id of row {@code row} at {@code position}. */
  public void check(long id, int row, int position) {
    if (!contains(id)) {
      throw new IllegalArgumentException(model + ": token id " + id + " at row " + row + ", position " + position
          + " is outside the vocabulary [0, " + size + ") of " + table);
    }
  }

  /** Checks the ids of one row (a prompt). */
  public void check(int[] ids, int row) {
    for (int t = 0; t < ids.length; t++) {
      check(ids[t], row, t);
    }
  }

  /** Checks row-major [rows, length] ids; the first bad one is the error. */
  public void check(long[] ids, int length) {
    for (int i = 0; i < ids.length; i++) {
      check(ids[i], i / length, i % length);
    }
  }

  /**
   * The warning for a tokenizer that can emit ids up to {@code tokenizerIds - 1} (its vocabulary and added
   * tokens) paired with this table, or null when every id it emits has a row.
   */
  public String tokenizerWarning(String tokenizer, int tokenizerIds) {
    if (tokenizerIds <= size) {
      return null;
    }
    return "warning: " + tokenizer + " can emit ids up to " + (tokenizerIds - 1) + " (" + tokenizerIds
        + " ids with its added tokens) but " + model + "'s " + table + " has only " + size
        + " rows; texts that use those ids will be refused";
  }

  /** Prints {@link #tokenizerWarning} on stderr, once per process for the same pair; true if there is one. */
  public boolean warnIfTokenizerExceeds(String tokenizer, int tokenizerIds) {
    String w = tokenizerWarning(tokenizer, tokenizerIds);
    if (w != null) {
      warnOnce(w);
    }
    return w != null;
  }

  private static void warnOnce(String message) {
    if (WARNED.add(message)) {
      System.err.println(message.startsWith("warning: ") ? message : "warning: " + message);
    }
  }
}
