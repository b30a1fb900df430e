package org.promptrecovery4j.models.generation;

import java.util.List;
import java.util.Set;

/**
 * How to generate, with HF {@code generate}'s meanings.
 *
 * @param maxNewTokens tokens to add at most
 * @param doSample false: greedy (argmax); true: sample from the processed distribution
 * @param temperature divides the logits when sampling (1 = unchanged)
 * @param topK keep the k most likely tokens when sampling (0 = off)
 * @param topP keep the smallest set of tokens whose probability reaches p when sampling (1 = off)
 * @param repetitionPenalty HF's: logits of tokens already in the sequence divided (positive) or
 *     multiplied (negative) by it, also in greedy mode (1 = off)
 * @param seed seeds sampling; prompt i of a call uses {@code seed + i}, so batching does not change it
 * @param eosTokenIds stop a row when it produces one of these (the id is kept in its output)
 * @param stopStrings stop a row when its decoded text contains one (needs a {@link TokenDecoder})
 * @param truncateLeft a prompt longer than the context keeps its last tokens instead of failing
 * @param maxBatchSize prompts run together at most
 */
public record GenerationConfig(
    int maxNewTokens,
    boolean doSample,
    double temperature,
    int topK,
    double topP,
    double repetitionPenalty,
    long seed,
    Set<Integer> eosTokenIds,
    List<String> stopStrings,
    boolean truncateLeft,
    int maxBatchSize) {

  public GenerationConfig {
    if (maxNewTokens < 0) {
      throw new IllegalArgumentException("max new tokens must be >= 0, is " + maxNewTokens);
    }
    if (doSample && !(temperature > 0)) {
      throw new IllegalArgumentException("temperature must be > 0, is " + temperature);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("top-p must be in (0, 1], is " + topP);
    }
    if (topK < 0 || !(repetitionPenalty > 0) || maxBatchSize < 1) {
      throw new IllegalArgumentException("top-k >= 0, repetition penalty > 0 and batch size >= 1 required");
    }
    eosTokenIds = Set.copyOf(eosTokenIds);
    stopStrings = List.copyOf(stopStrings);
  }

  /** Greedy decoding of up to {@code maxNewTokens}, no EOS, batches of up to 16. */
  public static GenerationConfig greedy(int maxNewTokens) {
    return new GenerationConfig(maxNewTokens, false, 1.0, 0, 1.0, 1.0, 0, Set.of(), List.of(), false, 16);
  }

  public GenerationConfig sampling(double temperature, int topK, double topP, long seed) {
    return new GenerationConfig(maxNewTokens, true, temperature, topK, topP, repetitionPenalty, seed, eosTokenIds,
        stopStrings, truncateLeft, maxBatchSize);
  }

  public GenerationConfig withRepetitionPenalty(double p) {
    return new GenerationConfig(maxNewTokens, doSample, temperature, topK, topP, p, seed, eosTokenIds, stopStrings,
        truncateLeft, maxBatchSize);
  }

  public GenerationConfig withEos(Set<Integer> ids) {
    return new GenerationConfig(maxNewTokens, doSample, temperature, topK, topP, repetitionPenalty, seed, ids,
        stopStrings, truncateLeft, maxBatchSize);
  }

  public GenerationConfig withStopStrings(List<String> stops) {
    return new GenerationConfig(maxNewTokens, doSample, temperature, topK, topP, repetitionPenalty, seed, eosTokenIds,
        stops, truncateLeft, maxBatchSize);
  }

  public GenerationConfig withTruncateLeft(boolean t) {
    return new GenerationConfig(maxNewTokens, doSample, temperature, topK, topP, repetitionPenalty, seed, eosTokenIds,
        stopStrings, t, maxBatchSize);
  }

  public GenerationConfig withMaxBatchSize(int n) {
    return new GenerationConfig(maxNewTokens, doSample, temperature, topK, topP, repetitionPenalty, seed, eosTokenIds,
        stopStrings, truncateLeft, n);
  }
}
