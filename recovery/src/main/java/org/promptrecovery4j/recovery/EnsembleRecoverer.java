package org.promptrecovery4j.recovery;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.promptrecovery4j.core.PythonText;

/**
 * The recovered prompts combined into one answer, as the seed concatenates its recoverers' prompts: the members'
 * non-blank answers in member order, joined by the separator, exact repeats dropped (case and surrounding
 * whitespace ignored) when {@code dedupe} is on, then an optional appended text (e.g. a mean prompt, see
 * {@code mean-prompt}). Never blank: a row with nothing to say gets the fallback prompt.
 */
public final class EnsembleRecoverer implements PromptRecoverer {

  public static final String NAME = "ensemble";
  public static final String DEFAULT_FALLBACK = "Rewrite this text.";

  /** How answers are combined. {@code append} may be empty. */
  public record Settings(String separator, boolean dedupe, String append, String fallback) {
    public Settings {
      if (separator == null || append == null) {
        throw new IllegalArgumentException("ensemble: separator and append must not be null");
      }
      if (fallback == null || PythonText.isBlank(fallback)) {
        throw new IllegalArgumentException("ensemble: the fallback prompt must not be blank");
      }
    }

    public static Settings defaults() {
      return new Settings(" ", true, "", DEFAULT_FALLBACK);
    }
  }

  /** One row's answers: each member's (blank when it had none) and the combined one. */
  public record Detailed(List<String> members, String combined) {}

  private final List<PromptRecoverer> members;
  private final Settings settings;

  public EnsembleRecoverer(List<PromptRecoverer> members, Settings settings) {
    if (members.isEmpty()) {
      throw new IllegalArgumentException("ensemble: no recoverer");
    }
    this.members = List.copyOf(members);
    this.settings = settings;
  }

  @Override
  public String name() {
    return NAME;
  }

  public List<PromptRecoverer> members() {
    return members;
  }

  public Settings settings() {
    return settings;
  }

  @Override
  public void excludeTruePrompts(boolean on) {
    members.forEach(m -> m.excludeTruePrompts(on));
  }

  @Override
  public List<String> recoverAll(List<KaggleRow> rows) {
    return recoverDetailed(rows).stream().map(Detailed::combined).toList();
  }

  /** Every member's answers and the combined answer of each row. */
  public List<Detailed> recoverDetailed(List<KaggleRow> rows) {
    List<List<String>> answers = new ArrayList<>();
    for (PromptRecoverer m : members) {
      List<String> a = m.recoverAll(rows);
      if (a.size() != rows.size()) {
        throw new IllegalStateException(m.name() + " answered " + a.size() + " rows of " + rows.size());
      }
      answers.add(a);
    }
    List<Detailed> out = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      List<String> mine = new ArrayList<>(members.size());
      for (List<String> a : answers) {
        mine.add(a.get(i) == null ? "" : a.get(i));
      }
      out.add(new Detailed(mine, combine(mine)));
    }
    return out;
  }

  /** The members' answers of one row combined (never blank). */
  public String combine(List<String> answers) {
    List<String> parts = new ArrayList<>();
    Set<String> seen = new LinkedHashSet<>();
    for (String a : answers) {
      String p = PythonText.strip(a == null ? "" : a);
      if (p.isEmpty() || (settings.dedupe() && !seen.add(p.toLowerCase(Locale.ROOT)))) {
        continue;
      }
      parts.add(p);
    }
    String append = PythonText.strip(settings.append());
    if (!append.isEmpty() && !(settings.dedupe() && seen.contains(append.toLowerCase(Locale.ROOT)))) {
      parts.add(append);
    }
    String joined = String.join(settings.separator(), parts);
    return PythonText.isBlank(joined) ? settings.fallback() : joined;
  }

  @Override
  public void close() {
    RuntimeException first = null;
    for (PromptRecoverer m : members) {
      try {
        m.close();
      } catch (RuntimeException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
