package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;
import org.promptrecovery4j.models.generation.Generator;
import org.promptrecovery4j.training.lora.CausalLmLoss;
import org.promptrecovery4j.training.lora.LoraExamples;

/**
 * The LoRA recoverer on the tiny text decoders (random weights, real tokenizers; a random adapter): the prompt is
 * token for token what training put before the answer (also when the texts are cut), the answers are a direct
 * Generator call's, cleaned, and bad inputs are named errors.
 */
class LoraRecovererTest {

  static final int MAX_NEW = 12;

  @TempDir static Path dir;
  static Path phi;
  static Path mistral;
  static LoraRecoverer phiLora;
  static LoraRecoverer mistralLora;

  @BeforeAll
  static void load() throws IOException {
    phi = TinyLms.withContext("tiny-phi-text", dir, 1024);
    mistral = TinyLms.withContext("tiny-mistral-text", dir, 1024);
    Path phiAdapter = TinyLms.adapter(dir, "phi-lora", 2, TinyLms.phiShapes(), 1);
    Path mistralAdapter = TinyLms.adapter(dir, "mistral-lora", 2, TinyLms.mistralShapes(), 1);
    phiLora = LoraRecoverer.load(phi, phiAdapter, new LoraRecoverer.Settings(MAX_NEW, 400, 2), WeightStorage.FLOAT32);
    mistralLora = LoraRecoverer.load(mistral, mistralAdapter, new LoraRecoverer.Settings(MAX_NEW, 400, 2),
        WeightStorage.FLOAT32);
  }

  @AfterAll
  static void close() {
    phiLora.close();
    mistralLora.close();
  }

  /** The prompt part (labels -100) of what LoraExamples makes of one labelled row for training. */
  static int[] trainingPrompt(Path model, KaggleRow row, String answer, int maxLength) throws IOException {
    Path csv = dir.resolve("train-" + row.id() + ".csv");
    Csv.write(csv, List.of("original_text", "rewritten_text", "rewrite_prompt"),
        List.of(List.of(row.originalText(), row.rewrittenText(), answer)));
    var codec = org.promptrecovery4j.models.TokenizerCodecs.load(model);
    LoraExamples.Example e = LoraExamples.fromCsv(csv, codec, codec.eosId(), maxLength).get(0);
    int n = 0;
    while (e.labels()[n] == CausalLmLoss.IGNORE) {
      n++;
    }
    return Arrays.copyOf(e.ids(), n);
  }

  @Test
  void thePromptIsTrainingsPromptInPhiAndChatFormats() throws IOException {
    KaggleRow row = TinyLms.ROWS.get(1);
    int[] p = phiLora.promptIds(row);
    assertThat(p).containsExactly(trainingPrompt(phi, row, "Make it a letter.", 512));
    // phi-2's documented format: the instruction between "Instruct: " and "\nOutput:"
    assertThat(org.promptrecovery4j.models.TokenizerCodecs.load(phi).decode(p)).isEqualTo("Instruct: " + LoraExamples.instruction(row.originalText(), row.rewrittenText())
        + "\nOutput:");
    // a chat template: the instruction as one user turn, the model's turn opened
    int[] m = mistralLora.promptIds(row);
    assertThat(m).containsExactly(trainingPrompt(mistral, row, "Make it a letter.", 512));
    var codec = org.promptrecovery4j.models.TokenizerCodecs.load(mistral);
    assertThat(codec.chatTemplate().prompt("x", null)).isEqualTo("<s>[INST] x [/INST]");
    assertThat(m).containsExactly(codec.encode("<s>[INST] " + LoraExamples.instruction(row.originalText(),
        row.rewrittenText()) + " [/INST]", false));
  }

  @Test
  void textsAreCutAsTrainingCutsThem(@TempDir Path tmp) throws IOException {
    String longOriginal = "The committee will meet again next week to review every proposal in detail. ".repeat(6);
    KaggleRow row = TinyLms.row("long", longOriginal, "A short rewrite.");
    String answer = "Make it short.";
    var codec = org.promptrecovery4j.models.TokenizerCodecs.load(phi);
    int answerTokens = codec.encode(" " + answer, false).length + 1; // and EOS, as training appends it
    int maxLength = 260;
    try (TextGenerator g = TextGenerator.load(phi, null, WeightStorage.FLOAT32)) {
      // the same budget as a training example of that answer: prompt <= max length - answer
      LoraRecoverer r = new LoraRecoverer(g, new LoraRecoverer.Settings(answerTokens, maxLength, 1));
      int[] p = r.promptIds(row);
      assertThat(p.length).isLessThanOrEqualTo(maxLength - answerTokens);
      int full = LoraExamples.promptIds(LoraExamples.instruction(row.originalText(), row.rewrittenText()), codec, null)
          .length;
      assertThat(full).as("the row needed cutting").isGreaterThan(maxLength - answerTokens);
      assertThat(p).containsExactly(trainingPrompt(phi, row, answer, maxLength));
      String text = codec.decode(p);
      assertThat(text).contains("Rewritten text:\nA short rewrite.\nOutput:") // the longer text is cut first
          .contains("Original text:\nThe committee will meet again");
      // a budget the instruction alone exceeds is an error naming the row
      LoraRecoverer tiny = new LoraRecoverer(g, new LoraRecoverer.Settings(24, 100, 1));
      assertThatThrownBy(() -> tiny.promptIds(row)).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("row long: the instruction does not fit in 76 tokens even with both texts cut away");
    }
  }

  @Test
  void answersAreADirectGeneratorCallOnTheSamePromptCleaned() {
    List<List<String>> raws = new ArrayList<>();
    for (LoraRecoverer r : List.of(phiLora, mistralLora)) {
      List<String> answers = r.recoverAll(TinyLms.ROWS);
      assertThat(answers).hasSize(3);
      // the same prompts through the Generator, in the same batches (longest first, 2 at a time)
      List<int[]> prompts = TinyLms.ROWS.stream().map(r::promptIds).toList();
      List<Generator.Result> direct = directInBatches(r.generator(), prompts, r.generationConfig());
      for (int i = 0; i < 3; i++) {
        assertThat(direct.get(i).generatedIds()).hasSize(MAX_NEW); // random weights: no EOS
        assertThat(answers.get(i)).isEqualTo(GeneratedPromptCleaner.cleanOrEmpty(direct.get(i).text()));
      }
      raws.add(direct.stream().map(Generator.Result::text).toList());
      // one row alone, in a batch of its own: the same answer
      assertThat(r.recover(TinyLms.ROWS.get(2))).isEqualTo(answers.get(2));
    }
    // the cleaning is applied: a one-word answer is "nothing usable" (blank), the first letter is upper-cased
    List<String> phi = raws.get(0);
    assertThat(phi.get(0)).doesNotContain(" ").isNotEmpty();
    assertThat(GeneratedPromptCleaner.cleanOrEmpty(phi.get(0))).isEmpty();
    assertThat(phi.get(1)).startsWith("mal presor");
    assertThat(GeneratedPromptCleaner.cleanOrEmpty(phi.get(1))).isEqualTo("M" + phi.get(1).substring(1));
    // tabs and runs of spaces become one space
    List<String> mistral = raws.get(1);
    assertThat(mistral.get(0)).contains("\t");
    assertThat(GeneratedPromptCleaner.cleanOrEmpty(mistral.get(0))).doesNotContain("\t")
        .isEqualTo(GeneratedPromptCleaner.normalize(mistral.get(0)));
  }

  @Test
  void theAdapterIsApplied() throws IOException {
    KaggleRow row = TinyLms.ROWS.get(0);
    try (TextGenerator base = TextGenerator.load(phi, null, WeightStorage.FLOAT32)) {
      LoraRecoverer plain = new LoraRecoverer(base, phiLora.settings());
      int[] p = plain.promptIds(row);
      assertThat(p).containsExactly(phiLora.promptIds(row));
      int[] withAdapter = phiLora.generator().generate(List.of(p), phiLora.generationConfig()).get(0).generatedIds();
      int[] without = base.generate(List.of(p), plain.generationConfig()).get(0).generatedIds();
      assertThat(withAdapter).isNotEqualTo(without);
    }
  }

  /** The config's {@code compute} reaches the model: "bf16" holds the base's matrices in bf16 under the adapter. */
  @Test
  void theConfigsComputeKeyChoosesTheStorage(@TempDir Path tmp) throws IOException {
    RecoveryConfig c = RecoveryConfig.parse("{\"recoverers\": [{\"type\": \"lora\", \"model\": \"" + phi + "\","
        + " \"adapter\": \"" + dir.resolve("phi-lora") + "\", \"max_new_tokens\": " + MAX_NEW + ", \"max_length\": 400,"
        + " \"compute\": \"bf16\"}]}", tmp);
    try (EnsembleRecoverer e = c.build()) {
      LoraRecoverer bf16 = (LoraRecoverer) e.members().get(0);
      assertThat(dtypes(bf16)).contains(org.nd4j.linalg.api.buffer.DataType.BFLOAT16);
      assertThat(dtypes(phiLora)).doesNotContain(org.nd4j.linalg.api.buffer.DataType.BFLOAT16);
      KaggleRow row = TinyLms.row("r", "The cat sat on the mat.", "Arr, the cat be sittin' on the mat.");
      assertThat(bf16.promptIds(row)).containsExactly(phiLora.promptIds(row));
      assertThat(bf16.generator().generate(List.of(bf16.promptIds(row)), bf16.generationConfig()).get(0)
          .generatedIds()).isNotEmpty();
    }
  }

  /** The data types of the model's matrices (the arrays of rank 2). */
  static java.util.Set<org.nd4j.linalg.api.buffer.DataType> dtypes(LoraRecoverer r) {
    java.util.Set<org.nd4j.linalg.api.buffer.DataType> types = new java.util.HashSet<>();
    for (var v : r.generator().model().graph().variables()) {
      if (v.getArr() != null && v.getArr().rank() == 2) {
        types.add(v.dataType());
      }
    }
    return types;
  }

  @Test
  void badInputsAreNamedErrors(@TempDir Path tmp) throws IOException {
    Path noAdapter = tmp.resolve("missing");
    assertThatThrownBy(() -> LoraRecoverer.load(phi, noAdapter)).hasMessageContaining(noAdapter.toString())
        .hasMessageContaining("PEFT adapter folder");
    Path noTokenizer = TinyLms.FIXTURES.resolve("tiny-phi");
    assertThatThrownBy(() -> LoraRecoverer.load(noTokenizer, TinyLms.FIXTURES.resolve("lora/tiny-phi")))
        .hasMessageContaining(noTokenizer.toString()).hasMessageContaining("needs the model's tokenizer");
    // the fixture's own context (128) is shorter than the default max length (512)
    Path adapter = dir.resolve("phi-lora");
    assertThatThrownBy(() -> LoraRecoverer.load(TinyLms.FIXTURES.resolve("tiny-phi-text"), adapter))
        .hasMessage("lora: max length 512 is more than the model's context of 128 tokens (max_position_embeddings)");
    assertThatThrownBy(() -> new LoraRecoverer.Settings(64, 64, 1)).hasMessageContaining("max length more than max new");
  }

  /** Generator calls batch by batch as the recoverers make them: longest prompts first, batch-size at a time. */
  static List<Generator.Result> directInBatches(TextGenerator g, List<int[]> prompts,
      org.promptrecovery4j.models.generation.GenerationConfig config) {
    Integer[] order = new Integer[prompts.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (x, y) -> prompts.get(y).length != prompts.get(x).length
        ? Integer.compare(prompts.get(y).length, prompts.get(x).length) : Integer.compare(x, y));
    Generator.Result[] out = new Generator.Result[order.length];
    for (int start = 0; start < order.length; start += config.maxBatchSize()) {
      List<int[]> batch = new ArrayList<>();
      for (int k = start; k < Math.min(order.length, start + config.maxBatchSize()); k++) {
        batch.add(prompts.get(order[k]));
      }
      List<Generator.Result> r = g.generate(batch, config);
      for (int k = 0; k < r.size(); k++) {
        out[order[start + k]] = r.get(k);
      }
    }
    return List.of(out);
  }
}
