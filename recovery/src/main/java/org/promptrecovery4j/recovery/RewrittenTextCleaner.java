package org.promptrecovery4j.recovery;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.promptrecovery4j.core.PythonText;

/**
 * The seed's {@code fix_prompt}: removes Gemma's chatter from a {@code rewritten_text}, with exactly Python's results
 * (checked against {@code tools/reference/fix_prompt_reference.py} on hand-written edge cases and on the 1,427 real
 * rows of {@code ../shared/data/gemma_rewrites.csv}).
 *
 * <ol>
 *   <li>Refusals: if any {@link Kind#REFUSAL} pattern is found ({@code re.search}, {@code re.IGNORECASE}) the text
 *       becomes empty.
 *   <li>Lead-ins: otherwise, for each {@link Kind#LEAD_IN} pattern in order, each on the result of the previous one, a
 *       text where it is found becomes what follows its first match.
 *   <li>Prefix: a text that then starts with {@code "**\n\n"} or {@code "user"} loses its first 4 characters and is
 *       {@code str.strip()}ped ({@link PythonText#strip}, Python's whitespace set).
 * </ol>
 *
 * <p>Python's {@code re} semantics in {@link java.util.regex}: {@link Pattern#UNIX_LINES} so that {@code .} excludes
 * only {@code \n} as in Python (Java's {@code .} also stops at {@code \r}, U+0085, U+2028, U+2029), and
 * {@link Pattern#CASE_INSENSITIVE} with {@link Pattern#UNICODE_CASE} for Python's Unicode-aware IGNORECASE on
 * {@code str} ({@code İ} and {@code ı} match {@code i}, {@code ſ} matches {@code s}, as in Python).
 */
public final class RewrittenTextCleaner {

  /** What a rule does. */
  public enum Kind {
    /** Found anywhere: the text becomes empty (the model refused or had nothing to say). */
    REFUSAL,
    /** Found: the text becomes what follows the first match. */
    LEAD_IN,
    /** The text starts with {@code **\n\n} or {@code user}: cut 4 characters, strip. */
    PREFIX
  }

  /** One rule: its kind and its pattern (Python regex source; for PREFIX, a description). */
  public record Rule(Kind kind, String pattern) {}

  /** The rules in the order fix_prompt applies them; {@link Result#rules()} and report counts index this list. */
  public static final List<Rule> RULES = List.of(
      new Rule(Kind.REFUSAL, "therefore.*I cannot"),
      new Rule(Kind.REFUSAL, "does not contain any"),
      new Rule(Kind.REFUSAL, "am unable to provide"),
      new Rule(Kind.REFUSAL, "am unable to rewrite"),
      new Rule(Kind.REFUSAL, "do not have the capacity to write"),
      new Rule(Kind.REFUSAL, "am unable to engage"),
      new Rule(Kind.REFUSAL, "I am unable to"),
      new Rule(Kind.REFUSAL, "not provide information"),
      new Rule(Kind.LEAD_IN, "Sure, here.*?:"),
      new Rule(Kind.LEAD_IN, "Sure. here.*?:"),
      new Rule(Kind.LEAD_IN, "Certainly, here.*?:"),
      new Rule(Kind.LEAD_IN, "here.*? text*?:"),
      new Rule(Kind.LEAD_IN, "Summary of .*?\\n\\n"),
      new Rule(Kind.LEAD_IN, "Analysis of .*?\\n\\n"),
      new Rule(Kind.PREFIX, "**\\n\\n|user (cut 4 characters, strip)"));

  private static final int FLAGS = Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNIX_LINES;
  private static final Pattern[] PATTERNS = new Pattern[RULES.size()];

  static {
    for (int i = 0; i < RULES.size(); i++) {
      if (RULES.get(i).kind() != Kind.PREFIX) {
        PATTERNS[i] = Pattern.compile(RULES.get(i).pattern(), FLAGS);
      }
    }
  }

  private RewrittenTextCleaner() {}

  /** A cleaned text and the indexes (into {@link #RULES}) of the rules that changed it, in order. */
  public record Result(String text, List<Integer> rules) {}

  /** How many rows each rule changed, over a file or a list of texts. */
  public record Report(int rows, int changed, int emptied, long[] counts) {

    /** Rows rule {@code i} (an index into {@link #RULES}) changed. */
    public long count(int i) {
      return counts[i];
    }

    /** One line per rule ({@code count kind pattern}), then the totals. */
    public String format() {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < RULES.size(); i++) {
        Rule r = RULES.get(i);
        sb.append(String.format(Locale.ROOT, "%6d  %-8s %s%n", counts[i], r.kind().name().toLowerCase(Locale.ROOT)
            .replace('_', '-'), r.pattern()));
      }
      sb.append(String.format(Locale.ROOT, "rows %d, changed %d, emptied %d%n", rows, changed, emptied));
      return sb.toString();
    }
  }

  /** fix_prompt(text). */
  public static String clean(String text) {
    return trace(text).text();
  }

  /** fix_prompt(text), saying which rules changed it. */
  public static Result trace(String text) {
    for (int i = 0; i < RULES.size(); i++) {
      if (RULES.get(i).kind() == Kind.REFUSAL && PATTERNS[i].matcher(text).find()) {
        return new Result("", List.of(i)); // the first refusal found empties the text; later ones see nothing
      }
    }
    List<Integer> touched = new ArrayList<>();
    for (int i = 0; i < RULES.size(); i++) {
      if (RULES.get(i).kind() == Kind.LEAD_IN) {
        Matcher m = PATTERNS[i].matcher(text);
        if (m.find()) {
          text = text.substring(m.end());
          touched.add(i);
        }
      }
    }
    // both prefixes are 4 BMP characters, so substring(4) cuts what Python's text[4:] cuts
    if (text.startsWith("**\n\n") || text.startsWith("user")) {
      text = PythonText.strip(text.substring(4));
      touched.add(RULES.size() - 1);
    }
    return new Result(text, List.copyOf(touched));
  }

  /** Cleaned texts (in the input's order) and what each rule changed. */
  public record Cleaned(List<String> texts, Report report) {}

  /** Cleans every text, counting what each rule changed. */
  public static Cleaned cleanAll(List<String> texts) {
    List<String> cleaned = new ArrayList<>(texts.size());
    long[] counts = new long[RULES.size()];
    int changed = 0;
    int emptied = 0;
    for (String t : texts) {
      Result r = trace(t);
      for (int i : r.rules()) {
        counts[i]++;
      }
      if (!r.text().equals(t)) {
        changed++;
        if (r.text().isEmpty()) {
          emptied++;
        }
      }
      cleaned.add(r.text());
    }
    return new Cleaned(List.copyOf(cleaned), new Report(texts.size(), changed, emptied, counts));
  }

  /**
   * The {@code clean} command: reads a Kaggle CSV ({@link KaggleCsv#read}), cleans every {@code rewritten_text} and
   * writes all columns, in order, to {@code output} (atomically). Returns what each rule changed.
   */
  public static Report cleanCsv(Path input, Path output) throws IOException {
    KaggleTable in = KaggleCsv.read(input);
    List<String> texts = new ArrayList<>(in.rows().size());
    for (KaggleRow r : in.rows()) {
      texts.add(r.rewrittenText());
    }
    Cleaned cleaned = cleanAll(texts);
    List<KaggleRow> out = new ArrayList<>(in.rows().size());
    for (int i = 0; i < in.rows().size(); i++) {
      out.add(in.rows().get(i).withRewrittenText(cleaned.texts().get(i)));
    }
    KaggleCsv.write(output, new KaggleTable(output, in.header(), out));
    return cleaned.report();
  }
}
