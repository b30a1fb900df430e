package org.promptrecovery4j.evaluation;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.core.PythonText;

/**
 * Submission files ({@code id,rewrite_prompt}) and their join with the truth on {@code id}, with
 * Kaggle's rules: every truth id needs exactly one non-blank prediction; duplicate ids, unknown ids,
 * missing ids and blank predictions are errors naming the ids.
 */
public final class Submission {

  public static final String ID = "id";
  public static final String PROMPT = "rewrite_prompt";
  private static final int MAX_IDS_SHOWN = 10;

  private Submission() {}

  /** One row: an id and its prompt. */
  public record Row(String id, String prompt) {}

  /** Truth and predictions joined in the truth's order. */
  public record Joined(List<String> ids, List<String> truth, List<String> predicted) {}

  /** Reads the {@code id} and {@code rewrite_prompt} columns (other columns are ignored). */
  public static List<Row> read(Path csv) throws IOException {
    Csv.Table t = Csv.read(csv);
    int id = t.column(ID, csv);
    int prompt = t.column(PROMPT, csv);
    List<Row> rows = new ArrayList<>(t.rows().size());
    for (List<String> r : t.rows()) {
      rows.add(new Row(r.get(id), r.get(prompt)));
    }
    return rows;
  }

  /**
   * Writes a submission: the header {@code id,rewrite_prompt}, then one row each, RFC 4180 quoting, atomically
   * ({@link Csv#write}). Refused before anything is written, with an error naming the row and id: a blank prompt
   * (empty or only whitespace, Python's set: Kaggle reads it as a missing value), an empty id, a duplicate id.
   */
  public static void write(Path csv, List<Row> rows) throws IOException {
    List<List<String>> data = new ArrayList<>();
    Map<String, Integer> seen = new LinkedHashMap<>();
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      String where = csv + ": row " + (i + 1);
      if (r.id() == null || r.id().isEmpty()) {
        throw new IllegalArgumentException(where + ": empty id");
      }
      Integer first = seen.putIfAbsent(r.id(), i + 1);
      if (first != null) {
        throw new IllegalArgumentException(where + ": duplicate id '" + r.id() + "' (first at row " + first + ")");
      }
      if (PythonText.isBlank(r.prompt())) {
        throw new IllegalArgumentException(where + " (id '" + r.id() + "'): blank rewrite_prompt; a submission needs"
            + " a prompt on every row");
      }
      data.add(List.of(r.id(), r.prompt()));
    }
    Csv.write(csv, List.of(ID, PROMPT), data);
  }

  /** Joins on id; an error names every problem found (up to ten ids each). */
  public static Joined join(List<Row> truth, List<Row> predictions) {
    Map<String, String> t = index(truth, "truth");
    Map<String, String> p = index(predictions, "predictions");
    List<String> problems = new ArrayList<>();
    Set<String> unknown = new LinkedHashSet<>(p.keySet());
    unknown.removeAll(t.keySet());
    addProblem(problems, "ids not in the truth", unknown);
    Set<String> missing = new LinkedHashSet<>(t.keySet());
    missing.removeAll(p.keySet());
    addProblem(problems, "ids without a prediction", missing);
    Set<String> blank = new LinkedHashSet<>();
    for (Map.Entry<String, String> e : p.entrySet()) {
      if (t.containsKey(e.getKey()) && e.getValue().isBlank()) {
        blank.add(e.getKey());
      }
    }
    addProblem(problems, "blank predictions", blank);
    Set<String> blankTruth = new LinkedHashSet<>();
    t.forEach((id, prompt) -> {
      if (prompt.isBlank()) {
        blankTruth.add(id);
      }
    });
    addProblem(problems, "blank true prompts", blankTruth);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("submission does not match the truth: " + String.join("; ", problems));
    }
    List<String> ids = new ArrayList<>(t.keySet());
    List<String> tr = new ArrayList<>();
    List<String> pr = new ArrayList<>();
    for (String id : ids) {
      tr.add(t.get(id));
      pr.add(p.get(id));
    }
    return new Joined(ids, tr, pr);
  }

  private static Map<String, String> index(List<Row> rows, String what) {
    Map<String, String> m = new LinkedHashMap<>();
    Set<String> dup = new LinkedHashSet<>();
    for (Row r : rows) {
      if (m.putIfAbsent(r.id(), r.prompt()) != null) {
        dup.add(r.id());
      }
    }
    if (!dup.isEmpty()) {
      List<String> problems = new ArrayList<>();
      addProblem(problems, "duplicate ids in the " + what, dup);
      throw new IllegalArgumentException(problems.get(0));
    }
    return m;
  }

  private static void addProblem(List<String> problems, String what, Set<String> ids) {
    if (ids.isEmpty()) {
      return;
    }
    List<String> shown = new ArrayList<>(ids).subList(0, Math.min(MAX_IDS_SHOWN, ids.size()));
    problems.add(ids.size() + " " + what + " (" + String.join(", ", shown) + (ids.size() > MAX_IDS_SHOWN ? ", ..." : "") + ")");
  }
}
