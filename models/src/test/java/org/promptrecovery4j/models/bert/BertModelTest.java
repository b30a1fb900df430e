package org.promptrecovery4j.models.bert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.promptrecovery4j.models.Fixtures;
import org.promptrecovery4j.models.ForwardModel;
import org.promptrecovery4j.models.Models;
import org.promptrecovery4j.models.sentence.SentenceTransformer;
import org.promptrecovery4j.weights.ModelFolder;
import org.promptrecovery4j.weights.ModelFormatException;
import org.promptrecovery4j.weights.TensorInfo;
import org.promptrecovery4j.weights.WeightSource;
import org.promptrecovery4j.weights.config.BertConfig;

/** BertModel and BERT sentence-transformers folders against HF on the fixtures of tools/reference/bert_fixtures.py. */
class BertModelTest {

  @ParameterizedTest
  @ValueSource(strings = {"bert-tiny-mean", "bert-tiny-cls-bf16"})
  @SuppressWarnings("unchecked")
  void encoderMatchesHuggingFaceOnNonPaddedPositions(String fixture) throws Exception {
    Map<String, Object> in = Fixtures.read(fixture, "inputs.json");
    Map<String, Object> expected = Fixtures.read(fixture, "expected.json");
    INDArray ids = (INDArray) in.get("input_ids");
    INDArray mask = (INDArray) in.get("attention_mask");
    BertModel model = BertModel.load(Fixtures.dir(fixture));
    Map<String, Object> out = model.forward(ids, mask);

    double max = Fixtures.assertClose("last_hidden_state", (INDArray) expected.get("last_hidden_state"),
        (INDArray) out.get("last_hidden_state"), mask);
    List<INDArray> want = (List<INDArray>) expected.get("hidden_states");
    List<INDArray> got = (List<INDArray>) out.get("hidden_states");
    assertThat(got).hasSize(want.size()).hasSize(3);
    for (int i = 0; i < want.size(); i++) {
      max = Math.max(max, Fixtures.assertClose("hidden_states[" + i + "]", want.get(i), got.get(i), mask));
    }
    System.out.printf("%s: BertModel max |diff| %.3g%n", fixture, max);

    // the same graph at another batch size and length: the padded row alone, unpadded
    int shortLen = mask.getRow(1).sumNumber().intValue();
    INDArray row = ids.get(NDArrayIndex.interval(1, 2), NDArrayIndex.interval(0, shortLen)).dup();
    INDArray alone = (INDArray) model.forward(row, Nd4j.onesLike(row)).get("last_hidden_state");
    INDArray batched = ((INDArray) out.get("last_hidden_state"))
        .get(NDArrayIndex.interval(1, 2), NDArrayIndex.interval(0, shortLen), NDArrayIndex.all());
    Fixtures.assertClose("row 1 alone", batched.dup(), alone, null);
  }

  @ParameterizedTest
  @ValueSource(strings = {"bert-tiny-mean", "bert-tiny-cls-bf16"})
  void sentenceTransformersPipelineMatches(String fixture) throws Exception {
    Map<String, Object> in = Fixtures.read(fixture, "inputs.json");
    Map<String, Object> expected = Fixtures.read(fixture, "expected.json");
    INDArray ids = (INDArray) in.get("input_ids");
    INDArray mask = (INDArray) in.get("attention_mask");
    try (ForwardModel model = Models.load(Fixtures.dir(fixture))) {
      assertThat(model).isInstanceOf(SentenceTransformer.class);
      SentenceTransformer st = (SentenceTransformer) model;
      assertThat(st.modules()).containsExactly("Transformer", "Pooling", "Normalize");
      assertThat(st.encoder()).isInstanceOf(BertModel.class);
      Map<String, Object> out = model.forward(ids, mask);
      assertThat(out.keySet()).containsExactly("token_embeddings", "sentence_embedding");
      double tok = Fixtures.assertClose("token_embeddings", (INDArray) expected.get("token_embeddings"),
          (INDArray) out.get("token_embeddings"), mask);
      double sent = Fixtures.assertClose("sentence_embedding", (INDArray) expected.get("sentence_embedding"),
          (INDArray) out.get("sentence_embedding"), null);
      System.out.printf("%s: token_embeddings max |diff| %.3g, sentence_embedding %.3g%n", fixture, tok, sent);

      int shortLen = mask.getRow(1).sumNumber().intValue();
      INDArray row = ids.get(NDArrayIndex.interval(1, 2), NDArrayIndex.interval(0, shortLen)).dup();
      Fixtures.assertClose("row 1 alone", ((INDArray) expected.get("sentence_embedding")).getRow(1, true),
          st.embed(row, Nd4j.onesLike(row)), null);
    }
  }

  /**
   * A real {@code torch.onnx.export} of a BertModel (fixtures/onnx/tiny-bert: Linear weights renamed
   * {@code onnx::MatMul_N}, stored [in, out]) runs as the same model as its {@code state_dict}: the ONNX
   * reader's name recovery and transposes give BertModel exactly the PyTorch weights.
   */
  @Test
  void anOnnxExportRunsAsItsStateDict(@TempDir Path tmp) throws Exception {
    Path onnx = Fixtures.dir("onnx/tiny-bert");
    Files.copy(onnx.resolve("config.json"), tmp.resolve("config.json"));
    Files.copy(onnx.resolve("expected.safetensors"), tmp.resolve("model.safetensors"));
    INDArray ids = Nd4j.createFromArray(new long[][] {{2, 17, 33, 51, 9, 3}, {2, 44, 3, 0, 0, 0}});
    INDArray mask = Nd4j.createFromArray(new long[][] {{1, 1, 1, 1, 1, 1}, {1, 1, 1, 0, 0, 0}});
    try (ForwardModel fromOnnx = Models.load(onnx); ForwardModel fromStateDict = Models.load(tmp)) {
      INDArray a = (INDArray) fromOnnx.forward(ids, mask).get("last_hidden_state");
      INDArray b = (INDArray) fromStateDict.forward(ids, mask).get("last_hidden_state");
      assertThat(a.shape()).containsExactly(2, 6, 32);
      assertThat(a.sub(b).amaxNumber().doubleValue()).isZero();
    }
  }

  @Test
  void maxSeqLengthComesFromSentenceBertConfig() throws Exception {
    assertThat(SentenceTransformer.load(Fixtures.dir("bert-tiny-mean")).maxSeqLength()).isEqualTo(16);
    assertThat(Files.exists(Fixtures.dir("bert-tiny-cls-bf16").resolve("2_Normalize"))).isFalse();
  }

  @Test
  void batchesSplitIntoPassesGiveTheSameResult() throws Exception {
    String fixture = "bert-tiny-mean";
    Map<String, Object> in = Fixtures.read(fixture, "inputs.json");
    INDArray mask = (INDArray) in.get("attention_mask");
    BertModel model = BertModel.load(Fixtures.dir(fixture));
    System.setProperty("pr4j.activationBudgetMB", "0"); // one row per pass
    try {
      Map<String, Object> out = model.forward((INDArray) in.get("input_ids"), mask);
      Fixtures.assertClose("chunked", (INDArray) Fixtures.read(fixture, "expected.json").get("last_hidden_state"),
          (INDArray) out.get("last_hidden_state"), mask);
    } finally {
      System.clearProperty("pr4j.activationBudgetMB");
    }
  }

  @Test
  void aSequenceLongerThanThePositionTableIsRefused() throws Exception {
    BertModel model = BertModel.load(Fixtures.dir("bert-tiny-mean")); // max_position_embeddings 24
    INDArray ids = Nd4j.ones(org.nd4j.linalg.api.buffer.DataType.LONG, 1, 25);
    assertThatThrownBy(() -> model.forward(ids, null)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("max_position_embeddings 24");
  }

  private static Path copyOf(String fixture, Path tmp) throws Exception {
    Path src = Fixtures.dir(fixture);
    try (var files = Files.list(src)) {
      for (Path f : files.toList()) {
        if (Files.isRegularFile(f)) {
          Files.copy(f, tmp.resolve(f.getFileName()));
        }
      }
    }
    return tmp;
  }

  @Test
  void relativePositionEmbeddingsAreRefusedClearly(@TempDir Path tmp) throws Exception {
    Path dir = copyOf("bert-tiny-cls-bf16", tmp);
    String config = Files.readString(dir.resolve("config.json"));
    Files.writeString(dir.resolve("config.json"), config.replace("\"model_type\": \"bert\",",
        "\"model_type\": \"bert\", \"position_embedding_type\": \"relative_key_query\","));
    assertThatThrownBy(() -> BertModel.load(dir)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("position_embedding_type").hasMessageContaining("relative_key_query");
  }

  @Test
  void configThatDisagreesWithTheTensorsIsANamedError(@TempDir Path tmp) throws Exception {
    Path dir = copyOf("bert-tiny-cls-bf16", tmp);
    String config = Files.readString(dir.resolve("config.json"));
    Files.writeString(dir.resolve("config.json"), config.replace("\"intermediate_size\": 64", "\"intermediate_size\": 48"));
    assertThatThrownBy(() -> BertModel.load(dir)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("intermediate.dense.weight").hasMessageContaining("intermediate_size 48");
  }

  /** A checkpoint of a task model (BertForMaskedLM, …): every encoder tensor under {@code bert.}, plus a head. */
  private static final class Prefixed implements WeightSource {
    private final WeightSource inner;

    Prefixed(WeightSource inner) {
      this.inner = inner;
    }

    private String strip(String name) {
      return name.startsWith("bert.") ? name.substring(5) : "__absent__";
    }

    @Override
    public Path location() {
      return inner.location();
    }

    @Override
    public List<String> names() {
      return inner.names().stream().map(n -> "bert." + n).toList();
    }

    @Override
    public boolean contains(String name) {
      return inner.contains(strip(name));
    }

    @Override
    public TensorInfo info(String name) {
      return inner.info(strip(name));
    }

    @Override
    public ByteBuffer bytes(String name) {
      return inner.bytes(strip(name));
    }

    @Override
    public void close() throws java.io.IOException {
      inner.close();
    }
  }

  @Test
  void weightsUnderTheBertPrefixLoad() throws Exception {
    String fixture = "bert-tiny-cls-bf16";
    Map<String, Object> in = Fixtures.read(fixture, "inputs.json");
    INDArray mask = (INDArray) in.get("attention_mask");
    try (ModelFolder folder = ModelFolder.open(Fixtures.dir(fixture))) {
      BertModel model = BertModel.create((BertConfig) folder.config(), new Prefixed(folder.weights()));
      assertThat(model.vocabulary().table()).isEqualTo("bert.embeddings.word_embeddings.weight");
      Fixtures.assertClose("last_hidden_state", (INDArray) Fixtures.read(fixture, "expected.json").get("last_hidden_state"),
          (INDArray) model.forward((INDArray) in.get("input_ids"), mask).get("last_hidden_state"), mask);
    }
  }
}
