package org.promptrecovery4j.models.bert;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.builtin.BuiltinModels;
import org.promptrecovery4j.models.sentence.SentenceTransformer;
import org.promptrecovery4j.tokenizer.Encoding;
import org.promptrecovery4j.tokenizer.Tokenizer;
import org.promptrecovery4j.tokenizer.Tokenizers;

/**
 * The real all-MiniLM-L6-v2 (the built-in model's ONNX file) run by onnxruntime and by our SameDiff BERT on the
 * same token ids: 58 real sentences (short, 256+ tokens truncated, CJK, emoji, accents, other scripts, texts that
 * are empty after BERT normalisation) and sentence pairs with token_type_ids 1. Token embeddings (last_hidden_state
 * on real tokens) and sentence embeddings (mean pooling + L2 normalisation, computed here from onnxruntime's output)
 * agree within 1e-4. onnxruntime is a test-scope dependency only.
 */
class MiniLmOnnxRuntimeTest {

  static final double TOLERANCE = 1e-4;

  static OrtEnvironment env;
  static OrtSession ort;
  static SentenceTransformer ours;
  static Tokenizer tokenizer;

  @BeforeAll
  static void load() throws Exception {
    Path dir = BuiltinModels.folder(BuiltinModels.ALL_MINILM_L6_V2);
    env = OrtEnvironment.getEnvironment();
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setIntraOpNumThreads(2);
    ort = env.createSession(dir.resolve("model.onnx").toString(), options);
    ours = SentenceTransformer.load(dir);
    tokenizer = Tokenizers.load(dir).withTruncation(256);
  }

  @AfterAll
  static void close() throws Exception {
    if (ort != null) {
      ort.close();
    }
  }

  static List<String> sentences() throws Exception {
    JsonNode root = new ObjectMapper().readTree(MiniLmOnnxRuntimeTest.class.getResourceAsStream("minilm-sentences.json"));
    List<String> out = new ArrayList<>();
    root.get("sentences").forEach(s -> out.add(s.asText()));
    return out;
  }

  @Test
  void realSentencesMatchOnnxRuntime() throws Exception {
    List<String> texts = sentences();
    assertThat(texts).hasSizeGreaterThanOrEqualTo(50);
    List<Encoding> encodings = new ArrayList<>();
    for (String t : texts) {
      encodings.add(tokenizer.encode(t, true));
    }
    assertThat(encodings).anySatisfy(e -> assertThat(e.length()).isEqualTo(256)); // truncated
    assertThat(encodings).anySatisfy(e -> assertThat(e.length()).isEqualTo(2)); // [CLS] [SEP] only
    double[] worst = new double[2];
    for (int start = 0; start < encodings.size(); start += 8) {
      compare(encodings.subList(start, Math.min(encodings.size(), start + 8)), worst);
    }
    System.out.printf("all-MiniLM-L6-v2 vs onnxruntime, %d sentences: token embeddings max |diff| %.3g,"
        + " sentence embeddings %.3g%n", texts.size(), worst[0], worst[1]);
  }

  @Test
  void sentencePairsWithTokenTypeIdsMatchOnnxRuntime() throws Exception {
    List<String> texts = sentences();
    List<Encoding> pairs = new ArrayList<>();
    for (int i = 0; i + 1 < 12; i += 2) {
      pairs.add(tokenizer.encodePair(texts.get(i), texts.get(i + 1), true));
    }
    assertThat(pairs).allSatisfy(e -> assertThat(e.typeIds()).contains(0, 1));
    double[] worst = new double[2];
    compare(pairs, worst);
    System.out.printf("pairs with token_type_ids: token embeddings max |diff| %.3g%n", worst[0]);
  }

  /** One right-padded batch through both runtimes; worst[0] token, worst[1] sentence max |diff|. */
  static void compare(List<Encoding> batch, double[] worst) throws Exception {
    int n = batch.size();
    int len = batch.stream().mapToInt(Encoding::length).max().orElseThrow();
    long[][] ids = new long[n][len];
    long[][] mask = new long[n][len];
    long[][] types = new long[n][len];
    for (int b = 0; b < n; b++) {
      Encoding e = batch.get(b);
      for (int i = 0; i < e.length(); i++) {
        ids[b][i] = e.ids()[i];
        mask[b][i] = 1;
        types[b][i] = e.typeIds()[i];
      }
    }
    float[][][] want;
    try (OnnxTensor tIds = OnnxTensor.createTensor(env, ids);
        OnnxTensor tMask = OnnxTensor.createTensor(env, mask);
        OnnxTensor tTypes = OnnxTensor.createTensor(env, types);
        OrtSession.Result r = ort.run(Map.of("input_ids", tIds, "attention_mask", tMask, "token_type_ids", tTypes))) {
      want = (float[][][]) r.get(0).getValue();
    }
    Map<String, Object> out = ours.forward(Nd4j.createFromArray(ids), Nd4j.createFromArray(mask).castTo(DataType.FLOAT),
        Nd4j.createFromArray(types));
    float[][][] got = toArray3((INDArray) out.get("token_embeddings"));
    float[][] gotSentence = ((INDArray) out.get("sentence_embedding")).toFloatMatrix();
    for (int b = 0; b < n; b++) {
      int real = batch.get(b).length();
      double[] pooled = new double[want[b][0].length];
      for (int i = 0; i < real; i++) {
        for (int k = 0; k < pooled.length; k++) {
          double d = Math.abs(want[b][i][k] - got[b][i][k]);
          worst[0] = Math.max(worst[0], d);
          assertThat(d).as("token embedding row %d position %d dim %d (%s)", b, i, k, batch.get(b).tokens())
              .isLessThanOrEqualTo(TOLERANCE);
          pooled[k] += want[b][i][k] / real;
        }
      }
      double norm = Math.sqrt(java.util.Arrays.stream(pooled).map(x -> x * x).sum());
      for (int k = 0; k < pooled.length; k++) {
        double d = Math.abs(pooled[k] / Math.max(norm, 1e-12) - gotSentence[b][k]);
        worst[1] = Math.max(worst[1], d);
        assertThat(d).as("sentence embedding row %d dim %d", b, k).isLessThanOrEqualTo(TOLERANCE);
      }
    }
  }

  static float[][][] toArray3(INDArray a) {
    float[][][] out = new float[(int) a.size(0)][][];
    for (int b = 0; b < out.length; b++) {
      out[b] = a.slice(b).toFloatMatrix();
    }
    return out;
  }
}
