package org.promptrecovery4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.promptrecovery4j.core.AtomicFiles;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.core.Npy;
import org.promptrecovery4j.models.builtin.BuiltinModels;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;
import org.promptrecovery4j.models.sentence.SentenceTransformer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code embed}: sentence embeddings of texts (or pre-tokenized ids) with a sentence-transformers folder. */
@Command(
    name = "embed",
    mixinStandardHelpOptions = true,
    description = {
      "Embed texts with a sentence-transformers folder (sentence-t5, BERT) or the built-in all-MiniLM-L6-v2; rows in"
          + " input order.",
      "Input: .txt (one text per line), .csv (column --column), .jsonl (lines: a JSON string, {\"text\": ...}"
          + " or pre-tokenized {\"input_ids\": [...]}).",
      "Output: .npy (float32 [N, D], numpy.load) or .jsonl ({\"embedding\": [...]} per line)."
    })
public final class EmbedCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "sentence-transformers folder (e.g. sentence-t5-base),"
      + " or the built-in all-MiniLM-L6-v2")
  String model;

  @Option(names = "--input", required = true, description = "texts: .txt, .csv or .jsonl")
  Path input;

  @Option(names = "--output", required = true, description = "embeddings: .npy or .jsonl")
  Path output;

  @Option(names = "--batch-size", defaultValue = "32", description = "texts per forward pass (default ${DEFAULT-VALUE})")
  int batchSize;

  @Option(names = "--column", defaultValue = "text", description = "CSV/jsonl field holding the text (default ${DEFAULT-VALUE})")
  String column;

  @Option(names = "--kaggle-compat", description = "tokenize like the competition's TensorFlow sentence-t5 "
      + "(max 128 tokens, a literal </s> is plain text); default: PyTorch sentence-transformers (max_seq_length, 256)")
  boolean kaggleCompat;

  /** Texts or pre-tokenized ids, one per input row. */
  record Items(List<String> texts, List<int[]> ids) {}

  @Override
  public Integer call() throws Exception {
    String outName = output.getFileName().toString().toLowerCase(Locale.ROOT);
    if (!outName.endsWith(".npy") && !outName.endsWith(".jsonl")) {
      throw new IllegalArgumentException(output + ": the output must be .npy or .jsonl");
    }
    Items items = read(input, column);
    Path dir = BuiltinModels.resolve(model);
    SentenceTransformer st = SentenceTransformer.load(dir);
    if (kaggleCompat && !st.isSentenceT5()) {
      throw new IllegalArgumentException("--kaggle-compat reproduces the competition's TensorFlow sentence-t5; "
          + model + " is not a sentence-t5 model");
    }
    float[][] emb;
    if (items.ids() != null) {
      emb = new SentenceEmbedder(st, text -> new int[0], batchSize).embedIds(items.ids());
    } else {
      emb = new SentenceEmbedder(st, TextEncoders.forModel(dir, st, kaggleCompat), batchSize)
          .embed(items.texts());
    }
    write(output, emb);
    System.err.println("wrote " + emb.length + " embeddings to " + output);
    return 0;
  }

  static void write(Path output, float[][] emb) throws java.io.IOException {
    if (output.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy")) {
      Npy.writeFloat32(output, emb);
      return;
    }
    AtomicFiles.write(output, out -> {
      BufferedWriter w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8));
      for (float[] row : emb) {
        StringBuilder s = new StringBuilder("{\"embedding\":[");
        for (int i = 0; i < row.length; i++) {
          s.append(i == 0 ? "" : ",").append(row[i]);
        }
        w.write(s.append("]}\n").toString());
      }
      w.flush();
    });
  }

  static Items read(Path input, String column) throws java.io.IOException {
    String name = input.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".csv")) {
      Csv.Table t = Csv.read(input);
      int c = t.column(column, input);
      List<String> texts = new ArrayList<>();
      t.rows().forEach(r -> texts.add(r.get(c)));
      return new Items(texts, null);
    }
    List<String> lines = Files.readAllLines(input, StandardCharsets.UTF_8);
    if (name.endsWith(".txt")) {
      return new Items(lines, null);
    }
    if (!name.endsWith(".jsonl")) {
      throw new IllegalArgumentException(input + ": the input must be .txt, .csv or .jsonl");
    }
    ObjectMapper json = IdsJson.JSON;
    List<String> texts = new ArrayList<>();
    List<int[]> ids = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).isBlank()) {
        continue;
      }
      JsonNode n;
      try {
        n = json.readTree(lines.get(i));
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalArgumentException(input + ": line " + (i + 1) + ": not JSON: " + e.getOriginalMessage(), e);
      } catch (NumberFormatException e) { // a number BigDecimal cannot hold (exponent past int)
        throw new IllegalArgumentException(input + ": line " + (i + 1) + ": " + e.getMessage(), e);
      }
      if (n.isTextual()) {
        texts.add(n.asText());
      } else if (n.has("input_ids")) {
        JsonNode a = n.get("input_ids");
        if (!a.isArray()) {
          throw new IllegalArgumentException(input + ": line " + (i + 1) + ": input_ids must be a list of token ids");
        }
        int[] row = new int[a.size()];
        for (int k = 0; k < row.length; k++) {
          String where = input + ": line " + (i + 1) + ": input_ids[" + k + "]";
          long id = IdsJson.integer(a.get(k), where);
          if (id != (int) id) { // no table has that many rows; the model names ids within int range
            throw new IllegalArgumentException(where + ": token id " + id + " is outside every vocabulary (beyond 32-bit ids)");
          }
          row[k] = (int) id;
        }
        if (row.length == 0) {
          throw new IllegalArgumentException(input + ": line " + (i + 1) + ": empty input_ids");
        }
        ids.add(row);
      } else if (n.has(column) && n.get(column).isTextual()) {
        texts.add(n.get(column).asText());
      } else {
        throw new IllegalArgumentException(input + ": line " + (i + 1) + ": expected a string, {\"" + column
            + "\": ...} or {\"input_ids\": [...]}");
      }
    }
    if (!texts.isEmpty() && !ids.isEmpty()) {
      throw new IllegalArgumentException(input + ": mixes texts and input_ids; use one kind per file");
    }
    return ids.isEmpty() ? new Items(texts, null) : new Items(null, ids);
  }
}
