package org.promptrecovery4j.models;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.core.TensorJson;
import org.promptrecovery4j.models.bert.BertModel;
import org.promptrecovery4j.models.deberta.DebertaV2Model;
import org.promptrecovery4j.models.nn.LinearPrecision;
import org.promptrecovery4j.models.t5.T5EncoderModel;

/**
 * The encoders with bf16 linear layers ({@link LinearPrecision#BF16}) against PyTorch on their tiny fixtures
 * (tools/reference/encoder_bf16_fixtures.py → expected-bf16.json): DeBERTa-v3 (deberta-v3-tiny-bf16: bf16 weights on
 * disk), the T5 encoder of sentence-t5 and BERT (float32 weights on disk, rounded to bf16 at load).
 *
 * <p>Tolerance. HF's own bf16 run (every op in bf16) differs from its float32 run by {@code e = max |HF bf16 − HF
 * fp32|} over non-padded positions (DeBERTa 0.081, T5 0.27, BERT 0.16, on last hidden states of max |value| 2.7–3.9);
 * this path rounds elsewhere (only the linear layers' inputs and products; norms, attention, residuals stay float32),
 * so it can agree with HF bf16 no better than each agrees with float32: asserted within {@code 3e} of both (measured
 * 0.7e / 1.5e / 0.4e to float32 and 1.5e / 1.9e / 1.1e to HF bf16). The exact check is against the emulation of this
 * path in PyTorch (the float32 model, nn.Linear weights, inputs and products rounded to bf16): within {@code e/10}
 * (measured ≤ 1e-6: float32 accumulation order never flipped a bf16 rounding here).
 */
class EncoderBf16ComputeTest {

  @ParameterizedTest
  @CsvSource({
    "deberta-v3-tiny-bf16, last_hidden_state, "
        + "encoder\\.layer\\.\\d+\\.(attention\\.self\\.(query|key|value)_proj|attention\\.output\\.dense|intermediate\\.dense|output\\.dense)\\.weight, 12",
    "sentence-t5-tiny, token_embeddings, encoder\\.block\\.\\d+\\.layer\\.\\d\\.(SelfAttention\\.[qkvo]|DenseReluDense\\.w[io])\\.weight, 12",
    "bert-tiny-mean, last_hidden_state, "
        + "encoder\\.layer\\.\\d+\\.(attention\\.self\\.(query|key|value)|attention\\.output\\.dense|intermediate\\.dense|output\\.dense)\\.weight, 12"
  })
  void lastHiddenStateWithinBf16RoundingOfPyTorch(String fixture, String fp32Key, String linearNames, int linears)
      throws Exception {
    Map<String, Object> in = Fixtures.read(fixture, "inputs.json");
    INDArray ids = (INDArray) in.get("input_ids");
    INDArray mask = (INDArray) in.get("attention_mask");
    INDArray fp32 = (INDArray) Fixtures.read(fixture, "expected.json").get(fp32Key);
    JsonNode ref = new ObjectMapper().readTree(Fixtures.dir(fixture).resolve("expected-bf16.json").toFile());
    INDArray hfBf16 = TensorJson.tensor(ref.get("last_hidden_state"), "last_hidden_state");
    INDArray emulated = TensorJson.tensor(ref.get("emulated_last_hidden_state"), "emulated_last_hidden_state");
    double e = ref.get("fp32_max_abs_diff").asDouble();

    ForwardModel model = load(fixture, LinearPrecision.BF16);
    // every frozen linear weight is held in bf16, every other tensor of the checkpoint in float32
    Pattern linear = Pattern.compile(linearNames);
    int bf16 = 0;
    for (SDVariable v : graph(model).variables()) {
      if (v.getVariableType() != VariableType.CONSTANT || !v.name().contains(".")) {
        continue; // the checkpoint's tensors are those under their HF names
      }
      boolean isLinear = linear.matcher(v.name()).matches();
      assertThat(v.dataType()).as(v.name()).isEqualTo(isLinear ? DataType.BFLOAT16 : DataType.FLOAT);
      bf16 += isLinear ? 1 : 0;
    }
    assertThat(bf16).as("frozen linear weights").isEqualTo(linears);

    INDArray got = (INDArray) model.forward(ids, mask).get("last_hidden_state");
    assertThat(got.dataType()).isEqualTo(DataType.FLOAT);
    double toEmulated = Fixtures.maxAbsDiff(got, emulated, mask);
    double toHfBf16 = Fixtures.maxAbsDiff(got, hfBf16, mask);
    double toFp32 = Fixtures.maxAbsDiff(got, fp32, mask);
    System.out.printf("%s bf16 linears: max |diff| to the emulation %.3g, to HF bf16 %.4f, to HF fp32 %.4f"
        + " (HF bf16 to fp32: e = %.4f)%n", fixture, toEmulated, toHfBf16, toFp32, e);
    assertThat(toEmulated).isLessThanOrEqualTo(e / 10);
    assertThat(toHfBf16).isLessThanOrEqualTo(3 * e);
    assertThat(toFp32).isLessThanOrEqualTo(3 * e).isGreaterThan(1e-3); // it did compute in bf16

    // the float32 default is unchanged
    Fixtures.assertClose("float32", fp32, (INDArray) load(fixture, null).forward(ids, mask).get("last_hidden_state"), mask);
  }

  /** The fixture's encoder, with {@code precision} or (null) by the loader without the option. */
  static ForwardModel load(String fixture, LinearPrecision precision) throws Exception {
    java.nio.file.Path dir = Fixtures.dir(fixture);
    if (fixture.startsWith("deberta")) {
      return precision == null ? DebertaV2Model.load(dir) : DebertaV2Model.load(dir, precision);
    }
    if (fixture.startsWith("sentence-t5")) {
      return precision == null ? T5EncoderModel.load(dir) : T5EncoderModel.load(dir, precision);
    }
    return precision == null ? BertModel.load(dir) : BertModel.load(dir, precision);
  }

  static SameDiff graph(ForwardModel model) {
    return model instanceof DebertaV2Model d ? d.graph() : ((GraphEncoder) model).graph();
  }
}
