package org.promptrecovery4j.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.nn.OneDnn;
import org.promptrecovery4j.models.nn.OneDnnAttentionOp;

class GradFunctionsTest {

  @Test
  void aGraphWithOpsComputedInJavaIsANamedErrorNotACrashInFlatBuffers() {
    Assumptions.assumeTrue(OneDnn.loaded(), "oneDNN 3.3 not usable here: " + OneDnn.unusableReason());
    SameDiff sd = SameDiff.create();
    SDVariable q = sd.var("q", Nd4j.rand(DataType.FLOAT, 1, 2, 3, 4));
    SDVariable k = sd.constant("k", Nd4j.rand(DataType.FLOAT, 1, 2, 5, 4));
    SDVariable bias = sd.constant("bias", Nd4j.zeros(DataType.FLOAT, 1, 1, 3, 5));
    sd.setLossVariables(OneDnnAttentionOp.apply(q, k, k, bias, 0.5).sum().rename("loss"));
    assertThatThrownBy(() -> GradFunctions.ensure(sd)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pr4j_onednn_attention").hasMessageContaining("withDifferentiable(true)");
    assertThat(sd.hasGradientFunction()).isFalse();
  }

  @Test
  void plainGraphsGetTheirGradientFunction() {
    SameDiff sd = SameDiff.create();
    SDVariable a = sd.var("a", Nd4j.rand(DataType.FLOAT, 2, 3, 4));
    SDVariable b = sd.constant("b", Nd4j.rand(DataType.FLOAT, 2, 4, 5));
    sd.setLossVariables(sd.mmul(a, b).sum().rename("loss"));
    GradFunctions.ensure(sd);
    assertThat(sd.hasGradientFunction()).isTrue();
  }
}
