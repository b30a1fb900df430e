package org.promptrecovery4j.models.generation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Batched generation with a KV cache on any {@link CausalLM}, all through the model's one graph.
 *
 * <p>Prompts of different lengths run together, left-padded (padding keys masked, positions counted
 * from each row's first real token, as HF's {@code generate}): one prefill over the whole batch, then one
 * step per token over the rows still running. A row that finishes (EOS, stop string, max new tokens) is
 * dropped from the batch and its cache rows with it. Greedy, temperature, top-k, top-p, repetition
 * penalty and seeded sampling are {@link LogitsProcessing}'s. Batching does not change results: each
 * row's sampler is seeded from its prompt index.
 */
public final class Generator {

  /** Why a row stopped. */
  public enum FinishReason {
    EOS, STOP_STRING, LENGTH, CONTEXT
  }

  /** One prompt's result: the new ids (an EOS id included), their text if a decoder was given. */
  public record Result(int[] generatedIds, String text, FinishReason finishReason, int promptLength) {}

  private final CausalLM model;

  public Generator(CausalLM model) {
    this.model = model;
  }

  public CausalLM model() {
    return model;
  }

  public Result generate(int[] prompt, GenerationConfig config, TokenDecoder decoder) {
    return generate(List.of(prompt), config, decoder).get(0);
  }

  /** Generates for every prompt; results in the prompts' order. {@code decoder} may be null. */
  public List<Result> generate(List<int[]> prompts, GenerationConfig config, TokenDecoder decoder) {
    if (!config.stopStrings().isEmpty() && decoder == null) {
      throw new IllegalArgumentException("stop strings need a token decoder (a tokenizer)");
    }
    int context = model.dims().maxPositions();
    List<int[]> checked = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      int[] p = prompts.get(i);
      if (p.length == 0) {
        throw new IllegalArgumentException("prompt " + i + " is empty");
      }
      model.vocabulary().check(p, i); // row = the prompt's index, as given

      if (p.length > context) {
        if (!config.truncateLeft()) {
          throw new IllegalArgumentException("prompt " + i + " has " + p.length + " tokens, more than the model's context of "
              + context + " (max_position_embeddings); shorten it or ask for left truncation");
        }
        p = Arrays.copyOfRange(p, p.length - context, p.length);
      }
      checked.add(p);
    }
    // longest first, so each batch pads little; results go back to their own index
    Integer[] order = new Integer[checked.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingInt((Integer i) -> -checked.get(i).length));
    Result[] results = new Result[checked.size()];
    for (int start = 0; start < order.length; start += config.maxBatchSize()) {
      int[] idx = Arrays.copyOfRange(Arrays.stream(order).mapToInt(Integer::intValue).toArray(), start,
          Math.min(order.length, start + config.maxBatchSize()));
      List<int[]> batch = new ArrayList<>();
      for (int i : idx) {
        batch.add(checked.get(i));
      }
      Result[] r = generateBatch(batch, idx, config, decoder);
      for (int j = 0; j < idx.length; j++) {
        results[idx[j]] = r[j];
      }
    }
    return List.of(results);
  }

  /** One row's state while it runs. */
  private static final class Row {
    final int index;
    final int promptLength;
    final int[] sequence; // prompt then generated ids
    int length;
    int nextPosition;
    boolean[] validKeys; // over the cache's T keys
    final Random random;
    FinishReason finish;
    String text;

    Row(int index, int[] prompt, int padding, int capacity, long seed) {
      this.index = index;
      this.promptLength = prompt.length;
      this.sequence = Arrays.copyOf(prompt, prompt.length + capacity);
      this.length = prompt.length;
      this.nextPosition = prompt.length;
      this.validKeys = new boolean[padding + prompt.length];
      Arrays.fill(validKeys, padding, validKeys.length, true);
      this.random = new Random(seed);
    }

    int[] generated() {
      return Arrays.copyOfRange(sequence, promptLength, length);
    }
  }

  private Result[] generateBatch(List<int[]> prompts, int[] indices, GenerationConfig config, TokenDecoder decoder) {
    int context = model.dims().maxPositions();
    int groups = model.dims().groups();
    Integer window = model.dims().slidingWindow();
    int b = prompts.size();
    int width = prompts.stream().mapToInt(p -> p.length).max().orElseThrow();
    List<Row> rows = new ArrayList<>();
    long[] ids = new long[b * width];
    int[][] positions = new int[b][width];
    boolean[][] valid = new boolean[b][];
    for (int i = 0; i < b; i++) {
      int[] p = prompts.get(i);
      int pad = width - p.length;
      Row row = new Row(indices[i], p, pad, config.maxNewTokens(), config.seed() + indices[i]);
      rows.add(row);
      for (int t = 0; t < p.length; t++) {
        ids[i * width + pad + t] = p[t];
        positions[i][pad + t] = t;
      }
      valid[i] = row.validKeys;
    }
    Result[] results = new Result[b];
    if (config.maxNewTokens() == 0) {
      for (int i = 0; i < b; i++) {
        results[i] = finish(rows.get(i), FinishReason.LENGTH, decoder);
      }
      return results;
    }
    INDArray bias = AttentionMasks.causal(valid, 0, width, groups, window);
    INDArray input = Nd4j.createFromArray(ids).reshape(b, width);
    CausalLM.StepOutput out = model.run(input, positions, bias, null, true, true);
    bias.close();
    input.close();
    KvCache cache = out.cache();
    INDArray logits = out.logits();
    List<Row> active = new ArrayList<>(rows);
    while (true) {
      // choose each active row's next token
      float[][] rowLogits = logits.toFloatMatrix();
      logits.close();
      List<Row> still = new ArrayList<>();
      int[] keep = new int[active.size()];
      int kept = 0;
      for (int a = 0; a < active.size(); a++) {
        Row row = active.get(a);
        int token = LogitsProcessing.next(rowLogits[a], row.sequence, row.length, config, row.random);
        row.sequence[row.length++] = token;
        FinishReason reason = null;
        if (config.eosTokenIds().contains(token)) {
          reason = FinishReason.EOS;
        } else if (stopString(row, config, decoder)) {
          reason = FinishReason.STOP_STRING;
        } else if (row.length - row.promptLength >= config.maxNewTokens()) {
          reason = FinishReason.LENGTH;
        } else if (row.nextPosition >= context) {
          reason = FinishReason.CONTEXT;
        }
        if (reason != null) {
          row.finish = reason;
          results[rows.indexOf(row)] = finish(row, reason, decoder);
        } else {
          still.add(row);
          keep[kept++] = a;
        }
      }
      if (still.isEmpty()) {
        cache.close();
        return results;
      }
      if (kept < active.size()) {
        KvCache all = cache;
        cache = cache.select(Arrays.copyOf(keep, kept));
        all.close();
      }
      active = still;
      // one decode step for the rows still running
      int n = active.size();
      long[] next = new long[n];
      int[][] pos = new int[n][1];
      boolean[][] keys = new boolean[n][];
      for (int a = 0; a < n; a++) {
        Row row = active.get(a);
        next[a] = row.sequence[row.length - 1];
        pos[a][0] = row.nextPosition++;
        row.validKeys = Arrays.copyOf(row.validKeys, row.validKeys.length + 1);
        row.validKeys[row.validKeys.length - 1] = true;
        keys[a] = row.validKeys;
      }
      int past = (int) cache.length();
      bias = AttentionMasks.causal(keys, past, 1, groups, window);
      input = Nd4j.createFromArray(next).reshape(n, 1);
      out = model.run(input, pos, bias, cache, true, true);
      bias.close();
      input.close();
      cache.close();
      cache = out.cache();
      logits = out.logits();
    }
  }

  private static boolean stopString(Row row, GenerationConfig config, TokenDecoder decoder) {
    if (config.stopStrings().isEmpty()) {
      return false;
    }
    String text = decoder.decode(row.generated());
    for (String s : config.stopStrings()) {
      int at = text.indexOf(s);
      if (at >= 0) {
        row.text = text.substring(0, at);
        return true;
      }
    }
    return false;
  }

  private static Result finish(Row row, FinishReason reason, TokenDecoder decoder) {
    int[] generated = row.generated();
    String text = row.text;
    if (text == null && decoder != null) {
      int[] shown = reason == FinishReason.EOS ? Arrays.copyOf(generated, generated.length - 1) : generated;
      text = decoder.decode(shown);
    }
    return new Result(generated, text, reason, row.promptLength);
  }

}
