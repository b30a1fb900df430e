package org.promptrecovery4j.models.deberta;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.promptrecovery4j.models.Fixtures;

/** DebertaV2Model against HF on the tiny fixtures of tools/reference/encoders_fixtures.py. */
class DebertaV2ModelTest {

  @ParameterizedTest
  @ValueSource(strings = {"deberta-v3-tiny-buckets-small", "deberta-v3-tiny-bf16", "deberta-v2-tiny-classic"})
  @SuppressWarnings("unchecked")
  void matchesHuggingFaceOnNonPaddedPositions(String fixture) throws Exception {
    Map<String, Object> in = Fixtures.read(fixture, "inputs.json");
    Map<String, Object> expected = Fixtures.read(fixture, "expected.json");
    INDArray ids = (INDArray) in.get("input_ids");
    INDArray mask = (INDArray) in.get("attention_mask");
    DebertaV2Model model = DebertaV2Model.load(Fixtures.dir(fixture));
    Map<String, Object> out = model.forward(ids, mask);

    double max = Fixtures.assertClose("last_hidden_state", (INDArray) expected.get("last_hidden_state"),
        (INDArray) out.get("last_hidden_state"), mask);
    List<INDArray> want = (List<INDArray>) expected.get("hidden_states");
    List<INDArray> got = (List<INDArray>) out.get("hidden_states");
    assertThat(got).hasSize(want.size());
    for (int i = 0; i < want.size(); i++) {
      max = Math.max(max, Fixtures.assertClose("hidden_states[" + i + "]", want.get(i), got.get(i), mask));
    }
    System.out.printf("%s: max |diff| %.3g%n", fixture, max);

    // the same graph at another batch size and length: the padded row alone, unpadded
    int shortLen = mask.getRow(1).sumNumber().intValue();
    INDArray row = ids.get(NDArrayIndex.interval(1, 2), NDArrayIndex.interval(0, shortLen)).dup();
    INDArray alone = (INDArray) model.forward(row, Nd4j.onesLike(row)).get("last_hidden_state");
    INDArray batched = ((INDArray) out.get("last_hidden_state"))
        .get(NDArrayIndex.interval(1, 2), NDArrayIndex.interval(0, shortLen), NDArrayIndex.all());
    Fixtures.assertClose("row 1 alone", batched.dup(), alone, null);
    // and a single token
    INDArray one = (INDArray) model.forward(ids.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(0, 1)).dup(), null)
        .get("last_hidden_state");
    assertThat(one.shape()).containsExactly(1L, 1L, ((INDArray) out.get("last_hidden_state")).size(2));
  }

  @Test
  void batchesSplitIntoPassesGiveTheSameResult() throws Exception {
    String fixture = "deberta-v3-tiny-buckets-small";
    Map<String, Object> in = Fixtures.read(fixture, "inputs.json");
    INDArray mask = (INDArray) in.get("attention_mask");
    DebertaV2Model model = DebertaV2Model.load(Fixtures.dir(fixture));
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
  void logBucketsEqualHfTables() throws Exception {
    Map<String, Object> t = Fixtures.read("relative-position-buckets", "expected.json");
    long[] d = ((INDArray) t.get("distance")).data().asLong();
    int checked = 0;
    for (String key : t.keySet()) {
      if (!key.startsWith("deberta_")) {
        continue;
      }
      String[] parts = key.split("_");
      int bucket = Integer.parseInt(parts[1]);
      int max = Integer.parseInt(parts[2]);
      long[] want = ((INDArray) t.get(key)).data().asLong();
      for (int i = 0; i < d.length; i++) {
        assertThat(RelativePositions.logBucketPosition(d[i], bucket, max)).as("%s at %d", key, d[i]).isEqualTo(want[i]);
      }
      checked++;
    }
    assertThat(checked).isGreaterThanOrEqualTo(3);
  }

  @Test
  void inputsTheModelCannotTakeAreClearErrors() throws Exception {
    DebertaV2Model classic = DebertaV2Model.load(Fixtures.dir("deberta-v2-tiny-classic"));
    assertThatThrownBy(() -> classic.forward(Nd4j.createFromArray(new long[][] {{1, 500}}), null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside the vocabulary");
    assertThatThrownBy(() -> classic.forward(Nd4j.ones(1, 40).castTo(org.nd4j.linalg.api.buffer.DataType.LONG), null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max_position_embeddings");
    assertThatThrownBy(() -> classic.forward(Nd4j.ones(2, 3), Nd4j.ones(2, 4)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not match");
  }
}
