package org.promptrecovery4j.training.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.models.generation.ChatTemplate;
import org.promptrecovery4j.models.generation.PromptCodec;

/**
 * Training examples for a LoRA adapter: token ids and labels (the ids the loss is taken on; -100 elsewhere).
 *
 * <p>From rewrite rows ({@code original_text, rewritten_text, rewrite_prompt}) the prompt-recovery instruction
 * ({@link #instruction}) is the user turn and the rewrite prompt the answer: through the model's chat template when
 * it has one (Mistral-Instruct, Gemma-it: {@link ChatTemplate#prompt}), else phi-2's documented QA format
 * {@code "Instruct: <instruction>\nOutput: <answer>"}; the answer is followed by the EOS token. The loss is on the
 * answer and EOS only. A row longer than {@code maxLength} tokens has its two texts cut (the longer one first, at
 * the end) until it fits; the answer is never cut, and a row whose answer alone does not fit is an error naming it.
 * Generation renders a row's prompt the same way: {@link #generationPrompt}.
 *
 * <p>Pre-tokenized data: jsonl lines {@code {"input_ids": [...], "labels": [...]}} (labels optional: then every
 * token is labelled), e.g. for a llama2.c checkpoint, which has no tokenizer here.
 */
public final class LoraExamples {

  /** One example: ids and labels of the same length. */
  public record Example(int[] ids, int[] labels) {
    public Example {
      if (ids.length != labels.length || ids.length == 0) {
        throw new IllegalArgumentException("an example needs ids and labels of one non-zero length, has "
            + ids.length + " and " + labels.length);
      }
    }
  }

  private LoraExamples() {}

  /** The user turn for one row. */
  public static String instruction(String original, String rewritten) {
    return "Below are an original text and the same text rewritten by a language model. Write the prompt that was"
        + " given to the model to rewrite it.\n\nOriginal text:\n" + original + "\n\nRewritten text:\n" + rewritten;
  }

  /** Rows of a CSV with original_text, rewritten_text and rewrite_prompt, rendered and tokenized. */
  public static List<Example> fromCsv(Path csv, PromptCodec codec, int eosId, int maxLength) throws IOException {
    Csv.Table t = Csv.read(csv);
    int o = t.column("original_text", csv);
    int r = t.column("rewritten_text", csv);
    int p = t.column("rewrite_prompt", csv);
    ChatTemplate template = codec.chatTemplate();
    List<Example> out = new ArrayList<>();
    int row = 0;
    for (List<String> fields : t.rows()) {
      row++;
      String answer = fields.get(p);
      if (answer.isBlank()) {
        throw new IllegalArgumentException(csv + ": row " + row + ": empty rewrite_prompt");
      }
      out.add(render(fields.get(o), fields.get(r), answer, codec, template, eosId, maxLength, csv + ": row " + row));
    }
    return out;
  }

  static Example render(String original, String rewritten, String answer, PromptCodec codec, ChatTemplate template,
      int eosId, int maxLength, String where) {
    int[] answerIds = concat(codec.encode(template == null ? " " + answer : answer, false), new int[] {eosId});
    String[] texts = fitTexts(original, rewritten, c -> promptIds(instruction(c[0], c[1]), codec, template).length,
        maxLength - answerIds.length, () -> where + ": the answer (" + answerIds.length + " tokens) and the instruction"
            + " do not fit in --max-length " + maxLength + " even with both texts cut away");
    int[] prompt = promptIds(instruction(texts[0], texts[1]), codec, template);
    int[] ids = concat(prompt, answerIds);
    int[] labels = new int[ids.length];
    Arrays.fill(labels, 0, prompt.length, CausalLmLoss.IGNORE);
    System.arraycopy(answerIds, 0, labels, prompt.length, answerIds.length);
    return new Example(ids, labels);
  }

  /**
   * The prompt of one row for generation, token for token what training puts before the answer ({@link #promptIds}
   * of the {@link #instruction}), the texts cut as training cuts them ({@link #fitTexts}) so that the prompt has at
   * most {@code maxPromptTokens} tokens. The model's answer continues it: phi-2's format is answered with a space
   * and the prompt, a chat template's turn with the prompt; both end with EOS.
   *
   * @param template the model's chat template ({@code codec.chatTemplate()}, as training takes it), or null for
   *     phi-2's {@code Instruct:/Output:} format
   * @param where what the row is called in an error (the instruction alone longer than the budget)
   */
  public static int[] generationPrompt(String original, String rewritten, PromptCodec codec, ChatTemplate template,
      int maxPromptTokens, String where) {
    String[] texts = fitTexts(original, rewritten, c -> promptIds(instruction(c[0], c[1]), codec, template).length,
        maxPromptTokens, () -> where + ": the instruction does not fit in " + maxPromptTokens + " tokens even with both"
            + " texts cut away");
    return promptIds(instruction(texts[0], texts[1]), codec, template);
  }

  /**
   * Two texts cut to fit a token budget as training cuts them: unchanged if {@code tokens} of them is within
   * {@code budget}; else the fewest characters cut from their ends (the longer text first, then both alike, see
   * {@link #cut}) for {@code tokens} to fit, found by binary search. An error ({@code tooLong}) if they do not fit
   * even cut away entirely.
   *
   * @param tokens the token count of what the two texts ({@code [a, b]}) are put into
   */
  public static String[] fitTexts(String a, String b, ToIntFunction<String[]> tokens, int budget,
      Supplier<String> tooLong) {
    if (tokens.applyAsInt(new String[] {a, b}) <= budget) {
      return new String[] {a, b};
    }
    int lo = 1;
    int hi = a.length() + b.length();
    if (tokens.applyAsInt(cut(a, b, hi)) > budget) {
      throw new IllegalArgumentException(tooLong.get());
    }
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (tokens.applyAsInt(cut(a, b, mid)) <= budget) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return cut(a, b, lo);
  }

  /** The two texts with {@code n} characters cut from their ends, the longer one first (then both alike). */
  public static String[] cut(String o, String r, int n) {
    int lo = o.length();
    int lr = r.length();
    int diff = Math.abs(lo - lr);
    int fromLonger = Math.min(n, diff);
    if (lo >= lr) {
      lo -= fromLonger;
    } else {
      lr -= fromLonger;
    }
    int rest = n - fromLonger;
    lo -= Math.min(lo, (rest + 1) / 2);
    lr -= Math.min(lr, rest / 2);
    return new String[] {o.substring(0, Math.max(0, lo)), r.substring(0, Math.max(0, lr))};
  }

  /**
   * The prompt before the answer: with a chat template the instruction as one user turn opened for the model's
   * answer (encoded without extra special tokens, as HF's {@code apply_chat_template}); without one phi-2's QA format
   * {@code "Instruct: <instruction>\nOutput:"} with the tokenizer's special tokens.
   */
  public static int[] promptIds(String instruction, PromptCodec codec, ChatTemplate template) {
    if (template != null) {
      return codec.encode(template.prompt(instruction, null), false);
    }
    return codec.encode("Instruct: " + instruction + "\nOutput:", true);
  }

  /** Pre-tokenized jsonl: {"input_ids": [...], "labels": [...]} per line (labels optional). */
  public static List<Example> fromJsonl(Path jsonl) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<Example> out = new ArrayList<>();
    List<String> lines = Files.readAllLines(jsonl, StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).isBlank()) {
        continue;
      }
      String where = jsonl + ": line " + (i + 1);
      JsonNode n;
      try {
        n = json.readTree(lines.get(i));
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalArgumentException(where + ": not JSON: " + e.getOriginalMessage(), e);
      }
      int[] ids = ints(n.get("input_ids"), where + ": input_ids");
      int[] labels = n.has("labels") ? ints(n.get("labels"), where + ": labels") : ids.clone();
      if (labels.length != ids.length) {
        throw new IllegalArgumentException(where + ": labels has " + labels.length + " entries, input_ids " + ids.length);
      }
      out.add(new Example(ids, labels));
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(jsonl + ": no examples");
    }
    return out;
  }

  private static int[] ints(JsonNode a, String where) {
    if (a == null || !a.isArray() || a.isEmpty()) {
      throw new IllegalArgumentException(where + " must be a non-empty list of token ids");
    }
    int[] out = new int[a.size()];
    for (int k = 0; k < out.length; k++) {
      JsonNode v = a.get(k);
      if (!v.isIntegralNumber() || !v.canConvertToInt()) {
        throw new IllegalArgumentException(where + "[" + k + "]: " + v + " is not a token id");
      }
      out[k] = v.asInt();
    }
    return out;
  }

  /** Reads examples from a .csv (rewrite rows, needs the tokenizer) or a pre-tokenized .jsonl. */
  public static List<Example> read(Path data, PromptCodec codec, int eosId, int maxLength) throws IOException {
    String name = data.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".jsonl")) {
      return fromJsonl(data);
    }
    if (!name.endsWith(".csv")) {
      throw new IllegalArgumentException(data + ": training data must be .csv (original_text, rewritten_text,"
          + " rewrite_prompt) or pre-tokenized .jsonl");
    }
    if (codec == null) {
      throw new IllegalArgumentException(data + ": text rows need the model's tokenizer (or give pre-tokenized .jsonl)");
    }
    return fromCsv(data, codec, eosId, maxLength);
  }

  private static int[] concat(int[] a, int[] b) {
    int[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
