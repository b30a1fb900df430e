package org.promptrecovery4j.core.numerics;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The result of {@link TensorComparison#compare}: one {@link TensorDiff} per expected tensor, in the expected
 * order, and the actual tensors that had no expected one.
 *
 * @param tolerance the tolerance every tensor was held to
 * @param tensors one result per expected tensor, in the expected order
 * @param notCompared names only in actual, in their order (not failures)
 * @param maskShape the attention mask's [B, S], null when there was none
 */
public record ComparisonReport(
    Tolerance tolerance, List<TensorDiff> tensors, List<String> notCompared, long[] maskShape) {

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public ComparisonReport {
    tensors = List.copyOf(tensors);
    notCompared = List.copyOf(notCompared);
    maskShape = maskShape == null ? null : maskShape.clone();
  }

  @Override
  public long[] maskShape() {
    return maskShape == null ? null : maskShape.clone();
  }

  /** Whether every expected tensor passed. */
  public boolean passed() {
    return tensors.stream().allMatch(TensorDiff::passed);
  }

  /** The tensors that failed, in the expected order. */
  public List<TensorDiff> failures() {
    return tensors.stream().filter(d -> !d.passed()).toList();
  }

  /**
   * The first tensor that fails, in the expected order: for a capture in model order, the first layer whose
   * output is off (the later ones usually inherit its error). Its {@link TensorDiff#layer()} is the layer
   * number when the name has one.
   */
  public Optional<TensorDiff> firstFailure() {
    return tensors.stream().filter(d -> !d.passed()).findFirst();
  }

  /**
   * One line: {@code all 12 tensors within atol=1e-4 rtol=0}, or
   * {@code first failing layer: model.layers.2.mlp (layer 2); 3 of 12 tensors fail atol=1e-4 rtol=0}
   * ({@code first failing tensor: NAME; ...} when the name has no layer number).
   */
  public String summary() {
    Optional<TensorDiff> first = firstFailure();
    if (first.isEmpty()) {
      return "all " + tensors.size() + " tensors within " + tolerance;
    }
    TensorDiff f = first.get();
    return (f.layer().isPresent() ? "first failing layer: " : "first failing tensor: ") + f.nameAndLayer() + "; "
        + failures().size() + " of " + tensors.size() + " tensors fail " + tolerance;
  }

  /**
   * The report as a table (name, shape, elements compared, max abs and max rel error, worst index, expected
   * and actual value there, PASS/FAIL with the reason), a line for tensors only in actual and for the mask,
   * and the {@link #summary()} as the last line.
   */
  public String text() {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"name", "shape", "compared", "max abs", "max rel", "worst index", "expected", "actual",
        "result"});
    for (TensorDiff d : tensors) {
      boolean was = d.outcome() != TensorDiff.Outcome.MISSING && d.outcome() != TensorDiff.Outcome.SHAPE_MISMATCH;
      String result = d.passed() ? "PASS" : "FAIL  " + (d.outcome() == TensorDiff.Outcome.OUT_OF_TOLERANCE
          ? d.mismatched() + " beyond tolerance" : d.reason());
      rows.add(new String[] {
          Numbers.name(d.name()),
          Numbers.shape(d.expectedShape()),
          !was ? "-" : d.compared() == d.elements() ? Long.toString(d.elements()) : d.compared() + "/" + d.elements(),
          was ? Numbers.error(d.maxAbsError()) : "-",
          was ? Numbers.error(d.maxRelError()) : "-",
          Numbers.shape(d.worstIndex()),
          d.worstIndex() == null ? "-" : Numbers.compact(d.expectedValue()),
          d.worstIndex() == null ? "-" : Numbers.compact(d.actualValue()),
          result});
    }
    int[] width = new int[rows.get(0).length];
    for (String[] r : rows) {
      for (int c = 0; c < r.length; c++) {
        width[c] = Math.max(width[c], r[c].length());
      }
    }
    StringBuilder b = new StringBuilder();
    for (String[] r : rows) {
      StringBuilder line = new StringBuilder();
      for (int c = 0; c < r.length; c++) {
        line.append(c == r.length - 1 ? r[c] : String.format("%-" + width[c] + "s  ", r[c]));
      }
      b.append(line.toString().stripTrailing()).append('\n');
    }
    if (!notCompared.isEmpty()) {
      b.append("not compared (only in actual): ")
          .append(String.join(", ", notCompared.stream().map(Numbers::name).toList())).append('\n');
    }
    if (maskShape != null) {
      long applied = tensors.stream().filter(TensorDiff::masked).count();
      b.append("attention mask ").append(Numbers.shape(maskShape)).append(": applied to ").append(applied)
          .append(" of ").append(tensors.size()).append(" tensors (those whose first two dimensions match)\n");
    }
    return b.append(summary()).append('\n').toString();
  }

  /**
   * Every failing tensor's {@link TensorDiff#describe()} under the {@link #summary()}: the message of a failed
   * assertion.
   */
  public String describeFailures() {
    StringBuilder b = new StringBuilder(summary());
    for (TensorDiff d : failures()) {
      b.append('\n').append(d.describe());
    }
    if (!notCompared.isEmpty()) {
      b.append("\nnot compared (only in actual): ")
          .append(String.join(", ", notCompared.stream().map(Numbers::name).toList()));
    }
    return b.toString();
  }

  /**
   * The report as JSON: {@code atol}, {@code rtol}, {@code passed}, {@code mask} ([B, S] or null),
   * {@code tensors} (per tensor: name, layer, shape, actual_shape, outcome, passed, elements, masked, compared,
   * mismatched, max_abs, max_rel, worst_index, expected, actual, reason; null where not compared; NaN and
   * infinities as the strings "NaN", "Infinity"), {@code not_compared}, {@code first_failure} ({@code name},
   * {@code layer}, or null) and {@code summary}.
   */
  public String toJson() {
    ObjectNode root = JSON.createObjectNode();
    root.put("atol", tolerance.atol());
    root.put("rtol", tolerance.rtol());
    root.put("atol_scaled", tolerance.scaled());
    root.put("passed", passed());
    putShape(root, "mask", maskShape);
    ArrayNode list = root.putArray("tensors");
    for (TensorDiff d : tensors) {
      ObjectNode t = list.addObject();
      t.put("name", d.name());
      putLayer(t, d);
      putShape(t, "shape", d.expectedShape());
      putShape(t, "actual_shape", d.actualShape());
      t.put("outcome", d.outcome().name());
      t.put("passed", d.passed());
      t.put("elements", d.elements());
      t.put("masked", d.masked());
      t.put("compared", d.compared());
      t.put("mismatched", d.mismatched());
      boolean was = d.outcome() != TensorDiff.Outcome.MISSING && d.outcome() != TensorDiff.Outcome.SHAPE_MISMATCH;
      putNumber(t, "max_abs", was ? d.maxAbsError() : null, false);
      putNumber(t, "max_rel", was ? d.maxRelError() : null, false);
      putShape(t, "worst_index", d.worstIndex());
      putNumber(t, "expected", d.worstIndex() == null ? null : d.expectedValue(), true);
      putNumber(t, "actual", d.worstIndex() == null ? null : d.actualValue(), true);
      t.put("reason", d.reason());
    }
    ArrayNode only = root.putArray("not_compared");
    notCompared.forEach(only::add);
    Optional<TensorDiff> first = firstFailure();
    if (first.isPresent()) {
      ObjectNode f = root.putObject("first_failure");
      f.put("name", first.get().name());
      putLayer(f, first.get());
    } else {
      root.putNull("first_failure");
    }
    root.put("summary", summary());
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void putLayer(ObjectNode o, TensorDiff d) {
    if (d.layer().isPresent()) {
      o.put("layer", d.layer().getAsInt());
    } else {
      o.putNull("layer");
    }
  }

  private static void putShape(ObjectNode o, String key, long[] shape) {
    if (shape == null) {
      o.putNull(key);
    } else {
      ArrayNode a = o.putArray(key);
      for (long s : shape) {
        a.add(s);
      }
    }
  }

  /**
   * A number; a tensor value that is a float as the float (0.1, not 0.10000000149011612), errors as the exact
   * double; NaN and infinities as strings.
   */
  private static void putNumber(ObjectNode o, String key, Double x, boolean value) {
    if (x == null) {
      o.putNull(key);
    } else if (!Double.isFinite(x)) {
      o.put(key, Numbers.compact(x));
    } else if (value && (double) (float) x.doubleValue() == x) {
      o.put(key, (float) x.doubleValue());
    } else {
      o.put(key, x.doubleValue());
    }
  }
}
