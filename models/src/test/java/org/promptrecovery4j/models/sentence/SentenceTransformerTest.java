package org.promptrecovery4j.models.sentence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.promptrecovery4j.models.Fixtures;
import org.promptrecovery4j.models.ForwardModel;
import org.promptrecovery4j.models.Models;
import org.promptrecovery4j.models.t5.T5EncoderModel;

/** sentence-t5 (T5 encoder + Pooling + Dense + Normalize) against HF/sentence-transformers fixtures. */
class SentenceTransformerTest {

  @ParameterizedTest
  @ValueSource(strings = {"sentence-t5-tiny", "sentence-t5-tiny-gated-bf16"})
  void matchesReferenceOnNonPaddedPositions(String fixture) throws Exception {
    Map<String, Object> in = Fixtures.read(fixture, "inputs.json");
    Map<String, Object> expected = Fixtures.read(fixture, "expected.json");
    INDArray ids = (INDArray) in.get("input_ids");
    INDArray mask = (INDArray) in.get("attention_mask");
    ForwardModel model = Models.load(Fixtures.dir(fixture));
    assertThat(model).isInstanceOf(SentenceTransformer.class);
    Map<String, Object> out = model.forward(ids, mask);
    assertThat(out.keySet()).containsExactly("token_embeddings", "sentence_embedding");
    double tok = Fixtures.assertClose("token_embeddings", (INDArray) expected.get("token_embeddings"),
        (INDArray) out.get("token_embeddings"), mask);
    double sent = Fixtures.assertClose("sentence_embedding", (INDArray) expected.get("sentence_embedding"),
        (INDArray) out.get("sentence_embedding"), null);
    System.out.printf("%s: token_embeddings max |diff| %.3g, sentence_embedding %.3g%n", fixture, tok, sent);

    // batch independence and graph reuse: the padded row alone
    SentenceTransformer st = (SentenceTransformer) model;
    int shortLen = mask.getRow(1).sumNumber().intValue();
    INDArray row = ids.get(NDArrayIndex.interval(1, 2), NDArrayIndex.interval(0, shortLen)).dup();
    INDArray alone = st.embed(row, Nd4j.onesLike(row));
    Fixtures.assertClose("row 1 alone", ((INDArray) expected.get("sentence_embedding")).getRow(1, true), alone, null);
  }

  @Test
  @SuppressWarnings("unchecked")
  void plainT5EncoderGivesTheTokenEmbeddingsAndAllHiddenStates() throws Exception {
    String fixture = "sentence-t5-tiny-gated-bf16";
    Map<String, Object> in = Fixtures.read(fixture, "inputs.json");
    INDArray mask = (INDArray) in.get("attention_mask");
    Map<String, Object> out = T5EncoderModel.load(Fixtures.dir(fixture)).forward((INDArray) in.get("input_ids"), mask);
    Fixtures.assertClose("last_hidden_state", (INDArray) Fixtures.read(fixture, "expected.json").get("token_embeddings"),
        (INDArray) out.get("last_hidden_state"), mask);
    assertThat((List<INDArray>) out.get("hidden_states")).hasSize(3);
  }

  @Test
  void t5BucketsEqualHfTables() throws Exception {
    Map<String, Object> t = Fixtures.read("relative-position-buckets", "expected.json");
    long[] d = ((INDArray) t.get("distance")).data().asLong();
    int checked = 0;
    for (String key : t.keySet()) {
      if (!key.startsWith("t5_")) {
        continue;
      }
      String[] parts = key.split("_");
      long[] want = ((INDArray) t.get(key)).data().asLong();
      for (int i = 0; i < d.length; i++) {
        assertThat((long) T5EncoderModel.relativePositionBucket(d[i], Integer.parseInt(parts[1]), Integer.parseInt(parts[2])))
            .as("%s at %d", key, d[i]).isEqualTo(want[i]);
      }
      checked++;
    }
    assertThat(checked).isGreaterThanOrEqualTo(2);
  }

  @Test
  void poolingModesEqualNaive() {
    SameDiff sd = SameDiff.create();
    Nd4j.getRandom().setSeed(3);
    INDArray tok = Nd4j.randn(DataType.FLOAT, 2, 5, 3);
    INDArray mask = Nd4j.createFromArray(new float[][] {{1, 1, 1, 1, 1}, {0, 1, 1, 1, 0}});
    SDVariable t = sd.placeHolder("t", DataType.FLOAT, -1, -1, 3);
    SDVariable m = sd.placeHolder("m", DataType.FLOAT, -1, -1);
    SDVariable out = new Pooling(List.of("cls", "lasttoken", "weightedmean", "mean_sqrt_len_tokens", "max"))
        .apply(t, m);
    INDArray y = sd.output(Map.of("t", tok, "m", mask), out.name()).get(out.name());
    assertThat(y.shape()).containsExactly(2L, 15L);
    for (int b = 0; b < 2; b++) {
      int first = b == 0 ? 0 : 1;
      int lastTok = b == 0 ? 4 : 3;
      double n = b == 0 ? 5 : 3;
      for (int k = 0; k < 3; k++) {
        double wsum = 0;
        double wtot = 0;
        double sum = 0;
        double max = Double.NEGATIVE_INFINITY;
        for (int s = 0; s < 5; s++) {
          double mk = mask.getDouble(b, s);
          wsum += tok.getDouble(b, s, k) * mk * (s + 1);
          wtot += mk * (s + 1);
          sum += tok.getDouble(b, s, k) * mk;
          if (mk == 1) {
            max = Math.max(max, tok.getDouble(b, s, k));
          }
        }
        assertThat(y.getDouble(b, k)).isCloseTo(tok.getDouble(b, first, k), within(1e-6));
        assertThat(y.getDouble(b, 3 + k)).isCloseTo(tok.getDouble(b, lastTok, k), within(1e-6));
        assertThat(y.getDouble(b, 6 + k)).isCloseTo(wsum / wtot, within(1e-5));
        assertThat(y.getDouble(b, 9 + k)).isCloseTo(sum / Math.sqrt(n), within(1e-5));
        assertThat(y.getDouble(b, 12 + k)).isCloseTo(max, within(1e-6));
      }
    }
  }
}
