package org.promptrecovery4j.recovery;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.promptrecovery4j.core.PythonText;

/**
 * Turns what an LLM recoverer generated into one usable rewrite prompt, or the fallback prompt when nothing usable is
 * left. In order:
 *
 * <ol>
 *   <li>Markdown: on each line, a heading's {@code #}s, a bullet ({@code - * + •}, {@code 1.}, {@code 1)}) or a
 *       {@code >} at the start, and every {@code **}, {@code __} and backtick, are removed ({@code ``a''} quotes become
 *       {@code "a"}).
 *   <li>Chatter: the first line that has something left after its lead-ins is kept; a lead-in is an interjection
 *       ({@code Sure!}, {@code Certainly,}, {@code Of course.}, ...) or the text before a {@code :} that introduces
 *       the answer: a label ({@code Answer}, {@code Output}, {@code My guess}, ...), text starting with {@code Sure},
 *       {@code Certainly}, {@code Here}, {@code Below}, {@code I think}, ..., or naming a prompt or instruction as its last words
 *       ({@code Prompt:}, {@code Rewrite prompt:}, {@code Instruction:}, {@code The original prompt was likely:}).
 *       A colon inside a real prompt ({@code Write like Tupac Shakur: channel ...}) is kept. A line that is only a
 *       label ({@code ## Prompt}, {@code Rewrite prompt}) is chatter too.
 *   <li>Surrounding quotes ({@code "..."}, {@code '...'}, {@code “...”}, {@code ‘...’}, {@code «...»}) and a whole-line
 *       {@code *...*} or {@code _..._}, repeatedly.
 *   <li>Polite forms: {@code Can you make this} → {@code Make this}; also {@code Could/Would/Will you [please]},
 *       {@code Please [,] can you}, {@code I want you to}, {@code I'd like you to}.
 *   <li>{@code ?} → {@code .} (a run of them → one {@code .}); whitespace runs → one space (Python's whitespace);
 *       the first letter upper-cased.
 *   <li>Kept when it has {@value #MIN_WORDS} to {@value #MAX_WORDS} words (whitespace-separated) and is not a
 *       refusal ({@code I'm sorry}, {@code I cannot}, {@code As an AI}, ... at the start); otherwise the fallback.
 * </ol>
 */
public final class GeneratedPromptCleaner {

  public static final int MIN_WORDS = 2;
  public static final int MAX_WORDS = 100;

  private static final int CI = Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE;
  private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s*");
  private static final Pattern BULLET = Pattern.compile("^(?:[-*+•‣◦▪>]|\\d{1,3}[.)])\\s+");
  /** {@code ``word''}: the tokenised-text quotes of some datasets, not code. */
  private static final Pattern TEX_QUOTES = Pattern.compile("``(.*?)''");
  private static final Pattern INLINE_MARKDOWN = Pattern.compile("\\*\\*|__|`+");
  private static final Pattern INTERJECTION = Pattern.compile(
      "^(?:sure(?: thing)?|certainly|of course|okay|ok|alright|absolutely|great|yes)(?:[!.,]+\\s*|\\s*$)", CI);
  private static final Pattern LEAD_IN_START = Pattern.compile(
      "^(?:sure|certainly|of course|okay|ok|alright|absolutely|here|below|i think|i believe|i'd guess"
          + "|i would guess)\\b", CI);
  private static final Pattern NAMES_A_PROMPT = Pattern.compile("\\b(?:prompts?|instructions?)\\b", CI);
  private static final Pattern LEAD_IN_END = Pattern.compile(
      "\\b(?:prompts?|instructions?|is|was|be|likely|probably|possibly|perhaps|like|follows|used|given|this|request"
          + "|guess|answer)$", CI);
  private static final int LEAD_IN_MAX_WORDS = 25;
  /** A line that is only a label, without its colon (a heading "## Prompt", "Rewrite prompt"). */
  private static final Pattern LABEL_LINE = Pattern.compile(
      "^(?:the |my )?(?:(?:rewrite|rewritten|recovered|original|likely|possible|predicted|final|best)\\s+)*"
          + "(?:prompts?|instructions?|answer|output|response|result|guess)[.!]?$", CI);
  private static final Pattern POLITE = Pattern.compile(
      "^(?:(?:please,?\\s+)?(?:can|could|would|will)\\s+you(?:\\s+please)?,?|i want you to|i(?:'d|’d| would) like you"
          + " to)\\s+(?=\\S)", CI);
  private static final Pattern REFUSAL = Pattern.compile(
      "^(?:i'm sorry|i’m sorry|i am sorry|sorry|i cannot|i can't|i can’t|i'm unable|i am unable|i'm not able"
          + "|i am not able|as an ai)\\b", CI);
  private static final Pattern QUESTION_MARKS = Pattern.compile("\\?+");
  private static final String[][] QUOTES = {
    {"\"", "\""}, {"'", "'"}, {"“", "”"}, {"‘", "’"}, {"«", "»"}, {"„", "“"}, {"*", "*"}, {"_", "_"},
  };

  private final String fallback;

  /** A cleaner that answers {@code fallback} (a usable prompt: not blank) when nothing usable was generated. */
  public GeneratedPromptCleaner(String fallback) {
    if (PythonText.isBlank(fallback)) {
      throw new IllegalArgumentException("the fallback prompt is blank");
    }
    this.fallback = fallback;
  }

  public String fallback() {
    return fallback;
  }

  /** The cleaned prompt, and whether it is the fallback. */
  public record Result(String prompt, boolean isFallback) {}

  /** The cleaned prompt, or the fallback. */
  public String clean(String generated) {
    return explain(generated).prompt();
  }

  /** {@link #clean}, saying whether the fallback was used. */
  public Result explain(String generated) {
    String s = normalize(generated);
    return usable(s) ? new Result(s, false) : new Result(fallback, true);
  }

  /**
   * The cleaned prompt, or the empty string where {@link #clean} would give the fallback: for the LLM recoverers,
   * whose "nothing usable" an ensemble skips.
   */
  public static String cleanOrEmpty(String generated) {
    String s = normalize(generated);
    return usable(s) ? s : "";
  }

  private static boolean usable(String normalized) {
    int words = words(normalized);
    return words >= MIN_WORDS && words <= MAX_WORDS && !REFUSAL.matcher(normalized).find();
  }

  /** Steps 1–5 (no word-count check, no fallback): may return an empty string. */
  public static String normalize(String generated) {
    if (generated == null) {
      return "";
    }
    String text = generated.replace("\r\n", "\n").replace('\r', '\n');
    String kept = "";
    for (String line : text.split("\n", -1)) {
      String s = withoutLeadIns(stripMarkdown(line));
      if (!s.isEmpty()) {
        kept = s;
        break;
      }
    }
    kept = unquote(kept);
    Matcher polite = POLITE.matcher(kept);
    if (polite.find()) {
      kept = unquote(kept.substring(polite.end()));
    }
    kept = QUESTION_MARKS.matcher(kept).replaceAll(".");
    kept = String.join(" ", splitWords(kept));
    return capitalize(kept);
  }

  private static String stripMarkdown(String line) {
    String s = PythonText.strip(line);
    s = TEX_QUOTES.matcher(s).replaceAll("\"$1\"");
    s = INLINE_MARKDOWN.matcher(s).replaceAll("");
    s = PythonText.strip(s);
    for (boolean again = true; again; ) {
      String before = s;
      s = PythonText.strip(HEADING.matcher(s).replaceFirst(""));
      s = PythonText.strip(BULLET.matcher(s).replaceFirst(""));
      again = !s.equals(before);
    }
    return s;
  }

  private static String withoutLeadIns(String line) {
    String s = unquote(line);
    for (boolean again = true; again && !s.isEmpty(); ) {
      String before = s;
      Matcher m = INTERJECTION.matcher(s);
      if (m.find()) {
        s = PythonText.strip(s.substring(m.end()));
      }
      int colon = s.indexOf(':');
      if (colon >= 0 && isLeadIn(s.substring(0, colon))) {
        s = PythonText.strip(s.substring(colon + 1));
      }
      s = unquote(s);
      if (LABEL_LINE.matcher(s).matches()) {
        s = "";
      }
      again = !s.equals(before);
    }
    return s;
  }

  /** Whether {@code before} (the text before a colon) only introduces what follows. */
  static boolean isLeadIn(String before) {
    String b = PythonText.strip(before);
    // a trailing "(...)" or quote does not change what the words say: "The prompt (my guess):"
    b = PythonText.strip(b.replaceAll("[\\s\"'“”‘’*_()\\[\\]]+$", ""));
    if (b.isEmpty()) {
      return true;
    }
    if (words(b) > LEAD_IN_MAX_WORDS) {
      return false;
    }
    if (LEAD_IN_START.matcher(b).find() || LABEL_LINE.matcher(b).matches()) {
      return true;
    }
    return NAMES_A_PROMPT.matcher(b).find() && LEAD_IN_END.matcher(b).find();
  }

  private static String unquote(String s) {
    for (boolean again = true; again; ) {
      again = false;
      String t = PythonText.strip(s);
      for (String[] q : QUOTES) {
        String inner = quoted(t, q[0], q[1]);
        if (inner != null) {
          t = PythonText.strip(inner);
          again = true;
          break;
        }
      }
      s = t;
    }
    return s;
  }

  /** The text between {@code open} at the start and {@code close} at the end (perhaps before a final . or !). */
  private static String quoted(String s, String open, String close) {
    if (!s.startsWith(open)) {
      return null;
    }
    String body = s;
    if (body.endsWith(close + ".") || body.endsWith(close + "!")) {
      body = body.substring(0, body.length() - 1);
    }
    if (body.length() < open.length() + close.length() + 1 || !body.endsWith(close)) {
      return null;
    }
    String inner = body.substring(open.length(), body.length() - close.length());
    if (!open.equals("'") && (inner.contains(open) || inner.contains(close))) {
      return null; // "a" and "b": two quoted pieces, not one
    }
    return inner.isEmpty() ? null : inner;
  }

  private static List<String> splitWords(String s) {
    List<String> w = new ArrayList<>();
    int i = 0;
    int n = s.length();
    while (i < n) {
      while (i < n && PythonText.isSpace(s.charAt(i))) {
        i++;
      }
      int start = i;
      while (i < n && !PythonText.isSpace(s.charAt(i))) {
        i++;
      }
      if (i > start) {
        w.add(s.substring(start, i));
      }
    }
    return w;
  }

  static int words(String s) {
    return splitWords(s).size();
  }

  private static String capitalize(String s) {
    if (s.isEmpty()) {
      return s;
    }
    int cp = s.codePointAt(0);
    if (!Character.isLowerCase(cp)) {
      return s;
    }
    return new String(Character.toChars(Character.toUpperCase(cp))) + s.substring(Character.charCount(cp));
  }
}
