package org.promptrecovery4j.models.sentence;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.core.Progress;

/**
 * Texts → sentence embeddings, in input order: texts are tokenized, sorted by length into batches of
 * {@code batchSize} (little padding), padded with the pad id, embedded, and put back in order.
 */
public final class SentenceEmbedder {

  private final SentenceTransformer model;
  private final TextEncoder encoder;
  private final int batchSize;

  public SentenceEmbedder(SentenceTransformer model, TextEncoder encoder, int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, is " + batchSize);
    }
    this.model = model;
    this.encoder = encoder;
    // a tokenizer that can emit ids the table has no row for: said once here, refused per text by the model
    model.encoder().vocabulary().warnIfTokenizerExceeds("the tokenizer", encoder.idLimit());
    this.batchSize = batchSize;
  }

  /** sentence-transformers' max length when a folder names none ({@code sentence_bert_config.json}). */
  public static final int DEFAULT_MAX_LENGTH = 256;

  /**
   * A ready embedder for a model folder: its sentence-transformers pipeline ({@link SentenceTransformer#load}) and
   * its tokenizer ({@code tokenizer.json}, {@code spiece.model}, ...), truncating to {@code max_seq_length}
   * ({@value #DEFAULT_MAX_LENGTH} if the folder names none) and lowercasing when {@code do_lower_case} says so, as
   * sentence-transformers' {@code encode} does.
   */
  public static SentenceEmbedder load(java.nio.file.Path dir, int batchSize) throws java.io.IOException {
    return load(dir, batchSize, false);
  }

  /** The TensorFlow sentence-t5 of the Kaggle metric truncates at 128 tokens. */
  public static final int KAGGLE_MAX_LENGTH = 128;

  /**
   * {@link #load(java.nio.file.Path, int)}, or with {@code kaggleCompat} the tokenization of the competition's
   * TensorFlow sentence-t5 (the {@code embed} command's {@code --kaggle-compat}): at most {@value #KAGGLE_MAX_LENGTH}
   * tokens, special tokens written in a text read as plain characters. Only for sentence-t5 folders.
   */
  public static SentenceEmbedder load(java.nio.file.Path dir, int batchSize, boolean kaggleCompat)
      throws java.io.IOException {
    SentenceTransformer st = SentenceTransformer.load(dir);
    if (kaggleCompat && !st.isSentenceT5()) {
      throw new IllegalArgumentException("kaggle-compat reproduces the competition's TensorFlow sentence-t5; " + dir
          + " is not a sentence-t5 model");
    }
    org.promptrecovery4j.tokenizer.Tokenizer tok = org.promptrecovery4j.tokenizer.Tokenizers.load(dir);
    int max = kaggleCompat ? KAGGLE_MAX_LENGTH : st.maxSeqLength() > 0 ? st.maxSeqLength() : DEFAULT_MAX_LENGTH;
    return new SentenceEmbedder(st, TextEncoder.of(kaggleCompat ? tok.withSpecialTokensAsText() : tok, max,
        st.doLowerCase()), batchSize);
  }

  public SentenceTransformer model() {
    return model;
  }

  private java.util.LinkedHashMap<String, float[]> memo;

  /**
   * Remembers the embeddings of up to {@code maxTexts} texts (least recently used dropped first), so that a text
   * embedded again (the same rows seen by several recoverers, a bank re-ranked) costs nothing. Returns this.
   */
  public synchronized SentenceEmbedder memoize(int maxTexts) {
    if (maxTexts < 1) {
      throw new IllegalArgumentException("memoize: at least 1 text, is " + maxTexts);
    }
    memo = new java.util.LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(java.util.Map.Entry<String, float[]> eldest) {
        return size() > maxTexts;
      }
    };
    return this;
  }

  /** One embedding row per text, in the order of {@code texts} (remembered ones from the memo, see {@link #memoize}). */
  public synchronized float[][] embed(List<String> texts) {
    if (memo == null) {
      return embedTexts(texts);
    }
    java.util.LinkedHashSet<String> missing = new java.util.LinkedHashSet<>();
    for (String t : texts) {
      if (!memo.containsKey(t)) {
        missing.add(t);
      }
    }
    List<String> todo = new ArrayList<>(missing);
    float[][] fresh = todo.isEmpty() ? new float[0][] : embedTexts(todo);
    java.util.Map<String, float[]> now = new java.util.HashMap<>();
    for (int i = 0; i < fresh.length; i++) {
      now.put(todo.get(i), fresh[i]);
      memo.put(todo.get(i), fresh[i]);
    }
    float[][] out = new float[texts.size()][];
    for (int i = 0; i < out.length; i++) {
      float[] e = now.containsKey(texts.get(i)) ? now.get(texts.get(i)) : memo.get(texts.get(i));
      out[i] = e.clone();
    }
    return out;
  }

  private float[][] embedTexts(List<String> texts) {
    List<int[]> ids = new ArrayList<>(texts.size());
    for (String t : texts) {
      int[] e = encoder.encode(t);
      if (e.length == 0) {
        throw new IllegalArgumentException("text encodes to no tokens: \"" + t + "\"");
      }
      ids.add(e);
    }
    return embedIds(ids);
  }

  /** One embedding row per id sequence, in input order (the pre-tokenized path). */
  public float[][] embedIds(List<int[]> ids) {
    for (int i = 0; i < ids.size(); i++) {
      model.encoder().vocabulary().check(ids.get(i), i); // row = the input's index, before batches reorder them
    }
    int[] order = IntStream.range(0, ids.size()).boxed()
        .sorted(Comparator.comparingInt(i -> ids.get(i).length)).mapToInt(Integer::intValue).toArray();
    float[][] out = new float[ids.size()][];
    try (Progress progress = Progress.start("embedding", ids.size(), Progress.Unit.ITEMS)) {
      for (int start = 0; start < order.length; start += batchSize) {
        int n = Math.min(batchSize, order.length - start);
        int length = ids.get(order[start + n - 1]).length;
        int[][] batch = new int[n][length];
        float[][] mask = new float[n][length];
        for (int b = 0; b < n; b++) {
          int[] row = ids.get(order[start + b]);
          java.util.Arrays.fill(batch[b], encoder.padId());
          System.arraycopy(row, 0, batch[b], 0, row.length);
          java.util.Arrays.fill(mask[b], 0, row.length, 1f);
        }
        INDArray emb = model.embed(Nd4j.createFromArray(batch), Nd4j.createFromArray(mask));
        for (int b = 0; b < n; b++) {
          out[order[start + b]] = emb.getRow(b).toFloatVector();
        }
        progress.advance(n);
      }
    }
    return out;
  }
}
