package org.promptrecovery4j.core;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;
import static org.assertj.core.api.Assertions.assertThat;
class SmokeTest {
  @Test void gemm() {
    var a = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 64, 32);
    var b = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 32, 16);
    var c = Nd4j.matmul(a, b);
    System.out.println(Nd4j.getBackend().getClass() + " " + Nd4j.getExecutioner().getEnvironmentInformation());
    System.out.println("blas vendor " + Nd4j.factory().blas().getBlasVendor());
    assertThat(c.shape()).containsExactly(64L, 16L);
  }
}
