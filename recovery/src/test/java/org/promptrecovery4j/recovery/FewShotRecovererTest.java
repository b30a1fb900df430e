package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;
import org.promptrecovery4j.models.generation.Generator;

/**
 * The few-shot recoverer on tiny-mistral-text (random weights, a real tokenizer and Mistral's chat template) with a
 * bank whose nearest rows are known (a toy embedder: each rewritten text is a unit vector at a given angle): the
 * examples picked, leave-one-out, the conversation verbatim, the budget, the response prefix, and the answers equal
 * to a direct Generator call, cleaned.
 */
class FewShotRecovererTest {

  @TempDir static Path dir;
  static Path mistral;
  static TextGenerator generator;

  /** Rewritten text → angle in degrees. */
  static final Map<String, Double> ANGLES = new LinkedHashMap<>();

  static final KaggleRow QUERY = TinyLms.row("q", "The bus was late again today.", "Alas, the bus, once more, was late.");
  static final List<KaggleRow> BANK = List.of(
      TinyLms.labelled("q", "x", "self", "Never me."), // the query's own id
      TinyLms.labelled("dup", QUERY.originalText(), QUERY.rewrittenText(), "Never the same pair."),
      TinyLms.labelled("b80", "Dogs bark.", "Woof woof, said the dogs.", "Write it as a dog."),
      TinyLms.labelled("b30", "I like tea.", "Tea, I adore thee.", "Make it an ode."),
      TinyLms.labelled("b50", "Sales rose.", "Sales went up a lot!", "Make it casual."),
      TinyLms.labelled("b10", "The sun set.", "Alas, the sun, once more, did set.", "Make it a lament."));

  static {
    ANGLES.put("self", 0.0);
    ANGLES.put(QUERY.rewrittenText(), 0.0);
    ANGLES.put("Woof woof, said the dogs.", 80.0);
    ANGLES.put("Tea, I adore thee.", 30.0);
    ANGLES.put("Sales went up a lot!", 50.0);
    ANGLES.put("Alas, the sun, once more, did set.", 10.0);
  }

  static float[][] toy(List<String> texts) {
    float[][] out = new float[texts.size()][];
    for (int i = 0; i < out.length; i++) {
      Double deg = ANGLES.get(texts.get(i));
      if (deg == null) {
        throw new IllegalArgumentException("no toy embedding for " + texts.get(i));
      }
      double a = Math.toRadians(deg);
      out[i] = new float[] {(float) Math.cos(a), (float) Math.sin(a)};
    }
    return out;
  }

  static final ExampleBank TOY_BANK = new ExampleBank("toy", BANK, FewShotRecovererTest::toy);

  @BeforeAll
  static void load() throws IOException {
    mistral = TinyLms.withContext("tiny-mistral-text", dir, 2048);
    generator = TextGenerator.load(mistral, null, WeightStorage.FLOAT32);
  }

  @AfterAll
  static void close() {
    generator.close();
  }

  /** A recoverer that does not own the shared model (its close would free it). */
  static FewShotRecoverer recoverer(FewShotRecoverer.Settings s) {
    return new FewShotRecoverer(generator, TOY_BANK, s);
  }

  static FewShotRecoverer.Settings settings(int k, int budget, String prefix) {
    return new FewShotRecoverer.Settings(k, budget, 12, 2, prefix);
  }

  @Test
  void theNearestRowsAreTheExamplesNeverTheRowItself() {
    assertThat(TOY_BANK.nearest(List.of(QUERY), 3).get(0)).containsExactly(5, 3, 4); // b10, b30, b50
    assertThat(TOY_BANK.nearest(List.of(QUERY), 10).get(0)).containsExactly(5, 3, 4, 2);
    assertThat(TOY_BANK.mayExplain(0, QUERY)).as("same id").isFalse();
    assertThat(TOY_BANK.mayExplain(1, QUERY)).as("same pair of texts").isFalse();
    // the bank is the evaluated file: each row's examples leave it out
    List<int[]> all = TOY_BANK.nearest(BANK.subList(2, 6), 1);
    assertThat(all.get(0)).containsExactly(4); // b80 → b50
    assertThat(all.get(1)).containsExactly(4); // b30 → b50 and b10 both 20° away: the earlier row
    assertThat(all.get(3)).containsExactly(0); // b10 → "self" and "dup" both 10° away (not b10 itself, 0°)
    assertThat(recoverer(settings(3, 1500, null)).examples(List.of(QUERY)).get(0)).containsExactly(5, 3, 4);
  }

  @Test
  void theConversationIsTheExamplesThenTheQuestionInTheChatTemplate() {
    FewShotRecoverer r = recoverer(settings(3, 1500, " Rewrite this"));
    String p = r.prompt(QUERY, new int[] {5, 3, 4});
    assertThat(p).isEqualTo("<s>"
        + "[INST] Original text:\nSales rose.\n\nRewritten text:\nSales went up a lot!\n\n"
        + "What prompt was the original text rewritten with? Answer with the prompt only. [/INST]Make it casual.</s>"
        + "[INST] Original text:\nI like tea.\n\nRewritten text:\nTea, I adore thee.\n\n"
        + "What prompt was the original text rewritten with? Answer with the prompt only. [/INST]Make it an ode.</s>"
        + "[INST] Original text:\nThe sun set.\n\nRewritten text:\nAlas, the sun, once more, did set.\n\n"
        + "What prompt was the original text rewritten with? Answer with the prompt only. [/INST]Make it a lament.</s>"
        + "[INST] Original text:\nThe bus was late again today.\n\nRewritten text:\nAlas, the bus, once more, was late."
        + "\n\nWhat prompt was the original text rewritten with? Answer with the prompt only. [/INST] Rewrite this");
    assertThat(r.promptIds(QUERY, new int[] {5, 3, 4})).containsExactly(generator.codec().encode(p, false));
    assertThat(recoverer(settings(0, 1500, null)).prompt(QUERY, new int[0]))
        .isEqualTo("<s>[INST] " + FewShotRecoverer.question(QUERY.originalText(), QUERY.rewrittenText()) + " [/INST]");
  }

  @Test
  void thePromptFitsTheBudgetExampleTextsCutFirst() {
    List<KaggleRow> longBank = new ArrayList<>();
    for (KaggleRow b : BANK) {
      longBank.add(TinyLms.labelled(b.id(), b.originalText() + " More words follow here.".repeat(40), b.rewrittenText(),
          b.rewritePrompt().orElseThrow()));
    }
    ExampleBank bank = new ExampleBank("long", longBank, FewShotRecovererTest::toy);
    int[] ex = {5, 3, 4};
    FewShotRecoverer full = new FewShotRecoverer(generator, bank, settings(3, 2000, null));
    int budget = 1000;
    assertThat(full.promptIds(QUERY, ex).length).isGreaterThan(budget);
    FewShotRecoverer r = new FewShotRecoverer(generator, bank, settings(3, budget, null));
    String p = r.prompt(QUERY, ex);
    int n = r.promptIds(QUERY, ex).length;
    assertThat(n).isLessThanOrEqualTo(budget).isGreaterThan(budget - 12); // the longest common length that fits
    assertThat(p).contains(FewShotRecoverer.question(QUERY.originalText(), QUERY.rewrittenText()))
        .contains("[/INST]Make it casual.</s>", "[/INST]Make it an ode.</s>", "[/INST]Make it a lament.</s>")
        .contains("Original text:\nSales rose. More words").doesNotContain(longBank.get(4).originalText());

    // a row too long for the budget even with the examples' texts emptied: its own texts are cut, the longer first
    KaggleRow longQuery = TinyLms.row("long", QUERY.originalText() + " And then it rained.".repeat(30),
        QUERY.rewrittenText());
    FewShotRecoverer small = new FewShotRecoverer(generator, bank, settings(3, 500, null));
    String q = small.prompt(longQuery, ex);
    assertThat(small.promptIds(longQuery, ex).length).isLessThanOrEqualTo(500).isGreaterThan(490);
    assertThat(q).contains("Original text:\n\n\nRewritten text:\n\n\nWhat prompt") // examples emptied
        .contains("Rewritten text:\n" + QUERY.rewrittenText() + "\n\nWhat prompt was the original text rewritten with?"
            + " Answer with the prompt only. [/INST]")
        .contains("Original text:\nThe bus was late again today. And then it rained.");
    // and a budget the scaffold alone exceeds is an error naming the row
    FewShotRecoverer tiny = new FewShotRecoverer(generator, bank, settings(3, 100, null));
    assertThatThrownBy(() -> tiny.prompt(longQuery, ex)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("few-shot: row long: the prompt does not fit in 100 tokens even with every text cut away");
  }

  @Test
  void answersAreADirectGeneratorCallWithThePrefixKeptAndCleaned() {
    FewShotRecoverer r = recoverer(settings(3, 1500, " Rewrite this"));
    List<KaggleRow> rows = new ArrayList<>(List.of(QUERY));
    rows.addAll(BANK.subList(4, 6)); // the bank's own rows: each leaves itself out
    List<String> answers = r.recoverAll(rows);
    assertThat(answers).hasSize(3);
    List<int[]> examples = r.examples(rows);
    List<int[]> prompts = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      prompts.add(r.promptIds(rows.get(i), examples.get(i)));
    }
    List<Generator.Result> direct = LoraRecovererTest.directInBatches(generator, prompts, r.generationConfig());
    for (int i = 0; i < rows.size(); i++) {
      String continuation = generator.continuation(prompts.get(i), direct.get(i));
      assertThat(answers.get(i)).isEqualTo(GeneratedPromptCleaner.cleanOrEmpty(" Rewrite this" + continuation))
          .startsWith("Rewrite this");
      // the continuation is what the Generator decoded, its first token's leading space kept
      assertThat(continuation.strip()).isEqualTo(direct.get(i).text().strip());
    }
  }

  @Test
  void theBuiltinEncoderPicksTheRowWhoseRewriteIsAlike(@TempDir Path tmp) throws IOException {
    Path csv = tmp.resolve("bank.csv");
    Csv.write(csv, List.of("id", "original_text", "rewritten_text", "rewrite_prompt"), List.of(
        List.of("pirate", "Bring the reports on Monday.", "Arr, ye scurvy dogs, bring yer reports Monday or walk the"
            + " plank!", "Talk like a pirate."),
        List.of("french", "The weather is nice.", "Il fait beau aujourd'hui.", "Translate into French."),
        List.of("poem", "The cat sat.", "Upon the mat the cat did sit, / and purred a while, and that was it.",
            "Make it a rhyming poem.")));
    try (FewShotRecoverer r = FewShotRecoverer.load(mistral, csv, null, settings(1, 1500, null),
        WeightStorage.FLOAT32)) {
      KaggleRow q = TinyLms.row("x", "The ship leaves at dawn.", "Ahoy, me hearties! The ship be sailin' at dawn, arr!");
      assertThat(r.examples(List.of(q)).get(0)).containsExactly(0);
      assertThat(r.prompt(q, new int[] {0})).contains("[/INST]Talk like a pirate.</s>");
    }
  }

  @Test
  void badInputsAreNamedErrors(@TempDir Path tmp) throws IOException {
    Path noPrompt = tmp.resolve("test.csv");
    Files.writeString(noPrompt, "id,original_text,rewritten_text\na,o,r\n");
    assertThatThrownBy(() -> ExampleBank.load(noPrompt, FewShotRecovererTest::toy))
        .hasMessage(noPrompt + ": header (line 1): no column 'rewrite_prompt' (an example bank needs the examples'"
            + " prompts; columns: id, original_text, rewritten_text)");
    Path blank = tmp.resolve("blank.csv");
    Files.writeString(blank, "id,original_text,rewritten_text,rewrite_prompt\na,o,self,p\nb,o,self,\" \"\n");
    assertThatThrownBy(() -> ExampleBank.load(blank, FewShotRecovererTest::toy))
        .hasMessage(blank + ": row 2 (line 3, id b): empty rewrite_prompt");
    Path phi = TinyLms.withContext("tiny-phi-text", tmp, 2048);
    try (TextGenerator g = TextGenerator.load(phi, null, WeightStorage.FLOAT32)) {
      assertThatThrownBy(() -> new FewShotRecoverer(g, TOY_BANK, FewShotRecoverer.Settings.defaults()))
          .hasMessageContaining("no chat_template").hasMessageContaining("needs an instruct model");
    }
    assertThatThrownBy(() -> new FewShotRecoverer(generator, TOY_BANK, settings(3, 2040, null)))
        .hasMessage("few-shot: max prompt tokens 2040 + max new tokens 12 is more than the model's context of 2048"
            + " tokens");
  }
}
