package org.promptrecovery4j.recovery;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The rows of a Kaggle CSV with its header (every column, in the file's order), for writing them back as they came.
 *
 * @param source the file read (for messages)
 * @param header the columns in file order: {@code id}, {@code original_text}, {@code rewritten_text}, perhaps
 *     {@code rewrite_prompt}, and any others, wherever they stand
 * @param rows the data rows in file order
 */
public record KaggleTable(Path source, List<String> header, List<KaggleRow> rows) {

  public KaggleTable {
    header = List.copyOf(header);
    rows = List.copyOf(rows);
  }

  /** Whether the file has a {@code rewrite_prompt} column (training data; Kaggle's test file has none). */
  public boolean hasRewritePrompt() {
    return header.contains(KaggleCsv.REWRITE_PROMPT);
  }

  /** The values of {@code row} in header order. */
  public List<String> fields(KaggleRow row) {
    List<String> f = new ArrayList<>(header.size());
    for (String column : header) {
      f.add(switch (column) {
        case KaggleCsv.ID -> row.id();
        case KaggleCsv.ORIGINAL_TEXT -> row.originalText();
        case KaggleCsv.REWRITTEN_TEXT -> row.rewrittenText();
        case KaggleCsv.REWRITE_PROMPT -> row.rewritePrompt().orElse("");
        default -> row.others().get(column);
      });
    }
    return f;
  }
}
