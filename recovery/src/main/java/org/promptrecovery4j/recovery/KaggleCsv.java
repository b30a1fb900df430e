package org.promptrecovery4j.recovery;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.core.PythonText;

/**
 * Kaggle "LLM Prompt Recovery" CSV files ({@code id,original_text,rewritten_text[,rewrite_prompt]}, any other columns
 * kept), read through the project's one CSV reader {@link Csv}: quoted fields over several lines, a UTF-8 BOM, CRLF or
 * LF line ends. {@code rewrite_prompt} is optional (Kaggle's test file has none). Errors name the file, the row and
 * the physical line it starts on: a missing required column (in the header, line 1), a row with too few or too many
 * fields, an empty id, a duplicate id (and where it first appeared).
 *
 * <p>Submissions ({@code id,rewrite_prompt}) are written by {@link org.promptrecovery4j.evaluation.Submission#write},
 * which refuses blank prompts.
 */
public final class KaggleCsv {

  public static final String ID = "id";
  public static final String ORIGINAL_TEXT = "original_text";
  public static final String REWRITTEN_TEXT = "rewritten_text";
  public static final String REWRITE_PROMPT = "rewrite_prompt";
  /** The columns every file must have. */
  public static final List<String> REQUIRED = List.of(ID, ORIGINAL_TEXT, REWRITTEN_TEXT);

  private KaggleCsv() {}

  /** Reads and checks a Kaggle CSV file. */
  public static KaggleTable read(Path csv) throws IOException {
    Csv.Table t = Csv.read(csv);
    List<String> header = t.header();
    Map<String, Integer> index = new HashMap<>();
    for (int c = 0; c < header.size(); c++) {
      Integer before = index.putIfAbsent(header.get(c), c);
      if (before != null) {
        throw new IllegalArgumentException(csv + ": header (line 1): column '" + header.get(c) + "' appears twice"
            + " (columns " + (before + 1) + " and " + (c + 1) + ")");
      }
    }
    for (String required : REQUIRED) {
      if (!index.containsKey(required)) {
        throw new IllegalArgumentException(csv + ": header (line 1): no column '" + required + "' (columns: "
            + String.join(", ", header) + "; needed: " + String.join(", ", REQUIRED) + ")");
      }
    }
    int id = index.get(ID);
    int original = index.get(ORIGINAL_TEXT);
    int rewritten = index.get(REWRITTEN_TEXT);
    Integer prompt = index.get(REWRITE_PROMPT);
    List<String> otherColumns = new ArrayList<>();
    for (String c : header) {
      if (!REQUIRED.contains(c) && !c.equals(REWRITE_PROMPT)) {
        otherColumns.add(c);
      }
    }
    List<KaggleRow> rows = new ArrayList<>(t.rows().size());
    Map<String, Integer> firstRow = new HashMap<>();
    for (int r = 0; r < t.rows().size(); r++) {
      List<String> f = t.rows().get(r);
      long line = t.line(r);
      String where = csv + ": row " + (r + 1) + " (line " + line + ")";
      String rowId = f.get(id);
      if (PythonText.isBlank(rowId)) {
        throw new IllegalArgumentException(where + ": empty id");
      }
      Integer first = firstRow.putIfAbsent(rowId, r);
      if (first != null) {
        throw new IllegalArgumentException(where + ": duplicate id '" + rowId + "' (first at row " + (first + 1)
            + ", line " + t.line(first) + ")");
      }
      Map<String, String> others = new LinkedHashMap<>();
      for (String c : otherColumns) {
        others.put(c, f.get(index.get(c)));
      }
      rows.add(new KaggleRow(rowId, f.get(original), f.get(rewritten),
          prompt == null ? Optional.empty() : Optional.of(f.get(prompt)), others, line));
    }
    return new KaggleTable(csv, header, rows);
  }

  /** Writes {@code table} to {@code csv} (every column, in its header's order; RFC 4180 quoting), atomically. */
  public static void write(Path csv, KaggleTable table) throws IOException {
    List<List<String>> data = new ArrayList<>(table.rows().size());
    for (KaggleRow r : table.rows()) {
      data.add(table.fields(r));
    }
    Csv.write(csv, table.header(), data);
  }
}
