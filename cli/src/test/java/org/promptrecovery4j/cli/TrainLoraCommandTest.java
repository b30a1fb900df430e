package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.models.generation.ChatTemplate;
import org.promptrecovery4j.models.generation.PromptCodec;
import org.promptrecovery4j.training.lora.CausalLmLoss;
import org.promptrecovery4j.training.lora.LoraExamples;

/** {@code train-lora} from rewrite rows on the tiny Mistral with a tokenizer and chat template, then {@code forward --adapter}. */
class TrainLoraCommandTest {

  static Path fixture(String name) {
    return Path.of(System.getProperty("pr4j.fixtures", "../fixtures")).resolve(name);
  }

  static Path rows(Path dir, int n, String longText) throws Exception {
    List<List<String>> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(List.of(i == 0 ? longText : "The cat sat on the mat number " + i + ".",
          "Arr, the cat be sittin' on mat " + i + ", matey!", i % 2 == 0 ? "Rewrite this as a pirate." : "Make it piratey."));
    }
    Path csv = dir.resolve("train.csv");
    Csv.write(csv, List.of("original_text", "rewritten_text", "rewrite_prompt"), rows);
    return csv;
  }

  @Test
  void rowsAreRenderedWithTheLossOnTheAnswerOnlyAndTheTextsCutNeverTheAnswer() throws Exception {
    Path model = fixture("tiny-mistral-text");
    PromptCodec codec = PromptCodecs.required(model);
    ChatTemplate template = codec.chatTemplate();
    assertThat(template).isNotNull();
    String longText = "word ".repeat(400);
    Path dir = Files.createTempDirectory("lora-rows");
    List<LoraExamples.Example> ex = LoraExamples.fromCsv(rows(dir, 2, longText), codec, 2, 320);
    for (int row = 0; row < ex.size(); row++) {
      LoraExamples.Example e = ex.get(row);
      assertThat(e.ids()).hasSizeLessThanOrEqualTo(320);
      int firstLabel = 0;
      while (e.labels()[firstLabel] == CausalLmLoss.IGNORE) {
        firstLabel++;
      }
      int[] answer = java.util.Arrays.copyOfRange(e.ids(), firstLabel, e.ids().length);
      assertThat(answer[answer.length - 1]).isEqualTo(2); // EOS ends the answer
      assertThat(codec.decode(java.util.Arrays.copyOf(answer, answer.length - 1))).isEqualTo(row == 0 ? "Rewrite this as a pirate." : "Make it piratey.");
      for (int t = firstLabel; t < e.ids().length; t++) {
        assertThat(e.labels()[t]).isEqualTo(e.ids()[t]);
      }
    }
    assertThat(ex.get(0).ids().length).isBetween(300, 320); // the long original was cut to fit
  }

  @Test
  void trainLoraWritesAPeftAdapterThatForwardTakes(@TempDir Path dir) throws Exception {
    Path model = fixture("tiny-mistral-text");
    Path out = dir.resolve("adapter");
    int rc = Main.run("train-lora", "--model", model.toString(), "--data", rows(dir, 8, "A short original.").toString(),
        "--output", out.toString(), "--epochs", "2", "--batch-size", "4", "--max-length", "320", "--lr", "1e-3",
        "--val-fraction", "0.25", "--r", "4");
    assertThat(rc).isZero();
    assertThat(out.resolve("adapter_config.json")).exists();
    assertThat(out.resolve("adapter_model.safetensors")).exists();
    Path ids = dir.resolve("ids.json");
    Files.writeString(ids, "{\"input_ids\": [[1, 5, 9, 17]]}");
    assertThat(Main.run("forward", "--model", model.toString(), "--adapter", out.toString(), "--input", ids.toString(),
        "--output", dir.resolve("o.json").toString())).isZero();
  }
}
