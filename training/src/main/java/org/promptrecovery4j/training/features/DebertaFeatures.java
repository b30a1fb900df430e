package org.promptrecovery4j.training.features;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.deberta.DebertaV2Model;
import org.promptrecovery4j.models.nn.LinearPrecision;
import org.promptrecovery4j.models.sentence.TextEncoder;
import org.promptrecovery4j.tokenizer.TokenizerException;
import org.promptrecovery4j.tokenizer.Tokenizers;
import org.promptrecovery4j.weights.ModelFolder;
import org.promptrecovery4j.weights.config.DebertaV2Config;
import org.promptrecovery4j.weights.config.ModelConfig;

/**
 * The frozen DeBERTa features of the seed's embedding-regression model, one row per (original, rewritten) pair:
 *
 * <pre>
 *   [ mean(hidden_states[-1](original)), mean(hidden_states[-2](original)),
 *     mean(hidden_states[-1](rewritten)), mean(hidden_states[-2](rewritten)) ]      4 × hidden float32
 * </pre>
 *
 * where {@code hidden_states} are those of HF {@code DebertaV2Model(..., output_hidden_states=True)} and
 * {@code mean} is the attention-masked mean over tokens ({@code (h · mask).sum(1) / mask.sum(1)}). Each text is
 * tokenized as HF {@code tokenizer(text, truncation=True, max_length=N)} does: special tokens ({@code [CLS] …
 * [SEP]}) kept, the text cut to fit. An empty text is {@code [CLS] [SEP]}, the mean of those two tokens.
 *
 * <p>The folder is checked (a DeBERTa-v2/v3 config, a tokenizer) when opened; the weights load on first use, their
 * linear layers computed in float32 (the default) or bf16 ({@link LinearPrecision}: faster on CPUs with AVX512_BF16,
 * features within bf16's rounding of float32's).
 */
public final class DebertaFeatures {

  /** The seed's max length in tokens. */
  public static final int DEFAULT_MAX_LENGTH = 384;

  private final Path dir;
  private final DebertaV2Config config;
  private final TextEncoder encoder;
  private final int maxLength;
  private final LinearPrecision compute;
  private DebertaV2Model model;

  private DebertaFeatures(Path dir, DebertaV2Config config, TextEncoder encoder, int maxLength, LinearPrecision compute) {
    this.dir = dir;
    this.config = config;
    this.encoder = encoder;
    this.maxLength = maxLength;
    this.compute = compute;
  }

  /** Checks the folder (DeBERTa-v2/v3 config, tokenizer) and prepares the tokenizer; weights load later. */
  public static DebertaFeatures open(Path dir, int maxLength) throws IOException {
    return open(dir, maxLength, LinearPrecision.FLOAT32);
  }

  /** {@link #open(Path, int)} with the model's linear layers computed in {@code compute} when it loads. */
  public static DebertaFeatures open(Path dir, int maxLength, LinearPrecision compute) throws IOException {
    if (maxLength < 2) {
      throw new IllegalArgumentException("max length must be at least 2 (room for [CLS] and [SEP]), is " + maxLength);
    }
    ModelConfig c;
    try (ModelFolder folder = ModelFolder.open(dir)) {
      c = folder.config();
    }
    if (!(c instanceof DebertaV2Config config)) {
      throw new IllegalArgumentException(dir + ": not a DeBERTa-v2/v3 model (model_type " + c.modelType()
          + "); features need a deberta-v2 folder such as microsoft/deberta-v3-large");
    }
    org.promptrecovery4j.tokenizer.Tokenizer tokenizer;
    try {
      tokenizer = Tokenizers.load(dir);
    } catch (TokenizerException e) {
      throw new IllegalArgumentException(dir + ": no usable tokenizer in the model folder (expected spm.model and"
          + " tokenizer_config.json, or tokenizer.json, as microsoft/deberta-v3-* ships them): " + e.getMessage(), e);
    }
    return new DebertaFeatures(dir, config, TextEncoder.of(tokenizer, maxLength), maxLength, compute);
  }

  /**
   * The same tokenizer and settings computing features with {@code model} (e.g. one being trained, built from this
   * folder) instead of loading the folder's weights.
   */
  public DebertaFeatures using(DebertaV2Model model) {
    if (model.config().hiddenSize() != config.hiddenSize()) {
      throw new IllegalArgumentException("the model has hidden size " + model.config().hiddenSize() + ", " + dir
          + " has " + config.hiddenSize());
    }
    DebertaFeatures f = new DebertaFeatures(dir, config, encoder, maxLength, model.precision());
    f.model = model;
    return f;
  }

  /** Values per row: 4 × hidden. */
  public int width() {
    return 4 * config.hiddenSize();
  }

  public int maxLength() {
    return maxLength;
  }

  /** The precision of the model's linear layers. */
  public LinearPrecision compute() {
    return compute;
  }

  public Path dir() {
    return dir;
  }

  /** The ids of one text: {@code [CLS] … [SEP]}, at most max length. */
  public int[] encode(String text) {
    return encoder.encode(text);
  }

  /** The features of rows given as ids, in the given order: [n][4 × hidden]. */
  public float[][] rows(List<int[]> originals, List<int[]> rewritten) throws IOException {
    if (originals.size() != rewritten.size()) {
      throw new IllegalArgumentException(originals.size() + " originals but " + rewritten.size() + " rewritten texts");
    }
    float[][][] o = lastTwoMeans(originals);
    float[][][] r = lastTwoMeans(rewritten);
    int h = config.hiddenSize();
    float[][] out = new float[originals.size()][];
    for (int i = 0; i < out.length; i++) {
      float[] row = new float[4 * h];
      System.arraycopy(o[0][i], 0, row, 0, h);
      System.arraycopy(o[1][i], 0, row, h, h);
      System.arraycopy(r[0][i], 0, row, 2 * h, h);
      System.arraycopy(r[1][i], 0, row, 3 * h, h);
      out[i] = row;
    }
    return out;
  }

  /**
   * Checks that the model has an embedding row for every id of {@code ids} (the tokenizer may be another model's),
   * naming {@code source} (the file and column) and the row on failure. Loads the weights.
   */
  public void checkIds(List<int[]> ids, String source) throws IOException {
    org.promptrecovery4j.models.Vocabulary v = model().vocabulary();
    for (int i = 0; i < ids.size(); i++) {
      try {
        v.check(ids.get(i), i);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(source + ": " + e.getMessage() + " (is the tokenizer this model's?)", e);
      }
    }
  }

  /** Texts → features in input order, in length-sorted batches of {@code batchSize} rows (no resume file). */
  public float[][] texts(List<String> originals, List<String> rewritten, int batchSize) throws IOException {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, is " + batchSize);
    }
    List<int[]> o = originals.stream().map(this::encode).toList();
    List<int[]> r = rewritten.stream().map(this::encode).toList();
    int[] order = lengthOrder(o, r);
    float[][] out = new float[o.size()][];
    for (int start = 0; start < order.length; start += batchSize) {
      int[] batch = Arrays.copyOfRange(order, start, Math.min(order.length, start + batchSize));
      float[][] f = rows(pick(o, batch), pick(r, batch));
      for (int b = 0; b < batch.length; b++) {
        out[batch[b]] = f[b];
      }
    }
    return out;
  }

  /**
   * Rows sorted by the tokens of both texts (shortest first, ties in input order), so that a batch pads little.
   */
  public static int[] lengthOrder(List<int[]> originals, List<int[]> rewritten) {
    return java.util.stream.IntStream.range(0, originals.size()).boxed()
        .sorted(java.util.Comparator.comparingInt(i -> originals.get(i).length + rewritten.get(i).length))
        .mapToInt(Integer::intValue).toArray();
  }

  static List<int[]> pick(List<int[]> ids, int[] rows) {
    List<int[]> out = new ArrayList<>(rows.length);
    for (int r : rows) {
      out.add(ids.get(r));
    }
    return out;
  }

  /** {mean(hidden_states[-1]), mean(hidden_states[-2])} of a batch of texts, each [n][hidden]. */
  private float[][][] lastTwoMeans(List<int[]> texts) throws IOException {
    int n = texts.size();
    int length = texts.stream().mapToInt(t -> t.length).max().orElse(0);
    int[][] ids = new int[n][length];
    int[][] mask = new int[n][length];
    for (int b = 0; b < n; b++) {
      int[] t = texts.get(b);
      Arrays.fill(ids[b], encoder.padId());
      System.arraycopy(t, 0, ids[b], 0, t.length);
      Arrays.fill(mask[b], 0, t.length, 1);
    }
    Map<String, Object> out = model().forward(Nd4j.createFromArray(ids), Nd4j.createFromArray(mask));
    @SuppressWarnings("unchecked")
    List<INDArray> states = (List<INDArray>) out.get("hidden_states");
    return new float[][][] {
      maskedMean(states.get(states.size() - 1), mask), maskedMean(states.get(states.size() - 2), mask)
    };
  }

  /** {@code (h · mask).sum(1) / clamp(mask.sum(1), min=1e-9)} of [B, L, H] → [B][H]. */
  static float[][] maskedMean(INDArray hidden, int[][] mask) {
    int b = (int) hidden.size(0);
    int l = (int) hidden.size(1);
    int h = (int) hidden.size(2);
    float[] v = hidden.castTo(DataType.FLOAT).dup('c').data().asFloat();
    float[][] out = new float[b][h];
    for (int i = 0; i < b; i++) {
      double[] sum = new double[h];
      int count = 0;
      for (int t = 0; t < l; t++) {
        if (mask[i][t] == 0) {
          continue;
        }
        count++;
        int base = (i * l + t) * h;
        for (int k = 0; k < h; k++) {
          sum[k] += v[base + k];
        }
      }
      double denominator = Math.max(count, 1e-9);
      for (int k = 0; k < h; k++) {
        out[i][k] = (float) (sum[k] / denominator);
      }
    }
    return out;
  }

  private synchronized DebertaV2Model model() throws IOException {
    if (model == null) {
      model = DebertaV2Model.load(dir, compute);
      model.vocabulary().warnIfTokenizerExceeds("the tokenizer", encoder.idLimit());
    }
    return model;
  }
}
