package org.promptrecovery4j.models.nn;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The outputs of a graph's modules under their HuggingFace names ({@code model.layers.3.self_attn.o_proj},
 * {@code encoder.layer.0.attention.output}), for capturing intermediate outputs in a forward pass
 * ({@code forward --capture}, {@link org.promptrecovery4j.models.ForwardModel#forward(org.nd4j.linalg.api.ndarray.INDArray,
 * org.nd4j.linalg.api.ndarray.INDArray, org.nd4j.linalg.api.ndarray.INDArray, Collection)}).
 *
 * <p>Each model registers, while it builds its graph, the variable that holds what HF's module of that name returns
 * (its first element for modules that return tuples), shaped as HF's: decoders keep hidden states as [B·S, F] and
 * register them through {@link #putTokens}, which adds a reshape to [B, S, F] that runs only when captured. Linear
 * layers ({@link Linear}, and each part of a fused projection) register themselves, after their adapters. Names are
 * those of the HF base model (the checkpoint's {@code deberta.}/{@code bert.} prefix is dropped); the first
 * registration of a name wins (HF's hooks see a module called twice first under its name).
 *
 * <p>Patterns ({@link #select}): a name, or a glob where {@code *} matches any run of characters other than
 * {@code .}, {@code **} any characters, {@code ?} one character other than {@code .}; the whole name must match.
 * {@code tools/reference/dump_activations.py} reads the same patterns.
 */
public final class ModuleOutputs {

  /** A module's output: a variable of the graph, or made from one (a reshape, a slice) when first captured. */
  private static final class Output {
    final SDVariable source;
    final java.util.function.UnaryOperator<SDVariable> view;
    SDVariable made;

    Output(SDVariable source, java.util.function.UnaryOperator<SDVariable> view) {
      this.source = source;
      this.view = view;
    }
  }

  private final Map<String, Output> outputs = new LinkedHashMap<>();
  private final String prefix;
  private SDVariable tokenShape;
  private SDVariable tokenShapeAnyWidth;

  /** @param prefix the checkpoint's prefix before HF base-model names ({@code ""}, {@code "deberta."}, {@code "bert."}) */
  public ModuleOutputs(String prefix) {
    this.prefix = prefix == null ? "" : prefix;
  }

  /** The [2] int64 (batch, sequence) of the graph's input ids, for {@link #putTokens}. */
  public void tokenShape(SDVariable batchAndSequence) {
    this.tokenShape = batchAndSequence;
  }

  /** Registers {@code output} (already shaped as HF's) as the output of module {@code name}; returns it. */
  public SDVariable put(String name, SDVariable output) {
    outputs.putIfAbsent(baseName(name), new Output(output, null));
    return output;
  }

  /**
   * Registers a [B·S, F] hidden state as module {@code name}'s [B, S, F] output; returns {@code flat}. The reshape
   * joins the graph only when the module is first captured: SameDiff M2.1 pays for every op of a graph on every run,
   * used or not (measured: ~4 µs per op; a decode step of a 32-layer model would carry ~600 of them).
   */
  public SDVariable putTokens(String name, SDVariable flat) {
    return putTokens(name, flat, -1, -1);
  }

  /** {@link #putTokens(String, SDVariable)} of the columns {@code [from, to)} of {@code flat} (a fused product's part). */
  public SDVariable putTokens(String name, SDVariable flat, long from, long to) {
    if (tokenShape == null) {
      throw new IllegalStateException("ModuleOutputs: no token shape set before registering " + name);
    }
    outputs.putIfAbsent(baseName(name), new Output(flat, v -> {
      SDVariable part = from < 0 ? v : v.get(org.nd4j.autodiff.samediff.SDIndex.all(),
          org.nd4j.autodiff.samediff.SDIndex.interval(Long.valueOf(from), Long.valueOf(to)));
      return part.reshape(tokenShapeAnyWidth());
    }));
    return flat;
  }

  private SDVariable tokenShapeAnyWidth() {
    if (tokenShapeAnyWidth == null) {
      tokenShapeAnyWidth = tokenShape.getSameDiff().concat(0, tokenShape,
          tokenShape.getSameDiff().constant(Nd4j.createFromArray(-1L).castTo(DataType.LONG)));
    }
    return tokenShapeAnyWidth;
  }

  private String baseName(String name) {
    return name.startsWith(prefix) ? name.substring(prefix.length()) : name;
  }

  /** Every capturable module name, in model order. */
  public List<String> names() {
    return List.copyOf(outputs.keySet());
  }

  /**
   * The modules matching {@code patterns} (in model order): HF name → graph variable name (adding the reshapes and
   * slices of those modules to the graph the first time they are captured). A pattern that matches no
   * module is an {@link IllegalArgumentException} naming it and up to five close names. A pattern written with the
   * checkpoint's prefix ({@code deberta.encoder.layer.1}) matches as without it.
   */
  public Map<String, String> select(Collection<String> patterns) {
    List<Pattern> compiled = new ArrayList<>();
    for (String raw : patterns) {
      String p = raw.trim();
      if (p.isEmpty()) {
        continue;
      }
      if (!prefix.isEmpty() && p.startsWith(prefix)) {
        p = p.substring(prefix.length());
      }
      Pattern re = glob(p);
      if (outputs.keySet().stream().noneMatch(n -> re.matcher(n).matches())) {
        throw new IllegalArgumentException("no module matches '" + raw + "'" + closeMatches(p));
      }
      compiled.add(re);
    }
    Map<String, String> selected = new LinkedHashMap<>();
    for (Map.Entry<String, Output> e : outputs.entrySet()) {
      if (compiled.stream().anyMatch(re -> re.matcher(e.getKey()).matches())) {
        selected.put(e.getKey(), variable(e.getValue()).name());
      }
    }
    return selected;
  }

  /** {@code base} output names followed by the graph variables of {@code captured} (from {@link #select}). */
  public static List<String> withCaptures(List<String> base, Map<String, String> captured) {
    List<String> names = new ArrayList<>(base);
    names.addAll(captured.values());
    return names;
  }

  /**
   * Puts the captured outputs into {@code result} under their HF names: {@code all} holds the outputs of
   * {@link #withCaptures}'s names in order, the captures after the first {@code baseCount}.
   */
  public static void addCaptures(Map<String, Object> result, Map<String, String> captured,
      List<org.nd4j.linalg.api.ndarray.INDArray> all, int baseCount) {
    int i = baseCount;
    for (String module : captured.keySet()) {
      result.put(module, all.get(i++));
    }
  }

  /**
   * An encoder's forward result: {@code last_hidden_state} and {@code hidden_states} (the first {@code states} of
   * {@code all}, the outputs of {@link #withCaptures}'s names), then the captures.
   */
  public static Map<String, Object> encoderResult(List<org.nd4j.linalg.api.ndarray.INDArray> all, int states,
      Map<String, String> captured) {
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("last_hidden_state", all.get(states - 1));
    result.put("hidden_states", List.copyOf(all.subList(0, states)));
    addCaptures(result, captured, all, states);
    return result;
  }

  private synchronized SDVariable variable(Output o) {
    if (o.view == null) {
      return o.source;
    }
    if (o.made == null) {
      o.made = o.view.apply(o.source);
    }
    return o.made;
  }

  private String closeMatches(String pattern) {
    String probe = pattern.replace("*", "").replace("?", "");
    List<String> close = outputs.keySet().stream()
        .sorted(Comparator.comparingInt((String n) -> editDistance(probe, n)).thenComparing(n -> n))
        .limit(5).toList();
    return close.isEmpty() ? " (this model registers no modules)"
        : "; close matches: " + String.join(", ", close) + " (" + outputs.size() + " modules; list them with"
            + " `forward --list-modules`)";
  }

  /** The glob syntax of {@link ModuleOutputs} as a regular expression. */
  public static Pattern glob(String pattern) {
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < pattern.length(); i++) {
      char c = pattern.charAt(i);
      if (c == '*' && i + 1 < pattern.length() && pattern.charAt(i + 1) == '*') {
        re.append(".*");
        i++;
      } else if (c == '*') {
        re.append("[^.]*");
      } else if (c == '?') {
        re.append("[^.]");
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(re.toString());
  }

  private static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
