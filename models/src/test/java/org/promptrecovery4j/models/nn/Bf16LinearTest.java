package org.promptrecovery4j.models.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.weights.DType;
import org.promptrecovery4j.weights.TensorInfo;
import org.promptrecovery4j.weights.WeightSource;

/**
 * {@link LinearPrecision#BF16} in {@link ParameterBinder} and {@link Linear} against plain Java: the weight rounded to
 * nearest even (ties included), the product of the rounded input and weight rounded to bf16, then the float32 bias.
 * Values lie in ±[1, 2), so every bf16 product is exact in float32 and so is their sum of 4 (18 significant bits):
 * the only rounding left is the product's to bf16, and the JVM must equal the Java result exactly.
 */
class Bf16LinearTest {

  /** IEEE round to nearest even of a float to bf16 (the top 16 bits), as torch's {@code .to(bfloat16)}. */
  static float bf16(float f) {
    int b = Float.floatToRawIntBits(f);
    return Float.intBitsToFloat((b + 0x7FFF + ((b >>> 16) & 1)) & 0xFFFF0000);
  }

  /** A checkpoint of float32 tensors held in memory. */
  record Floats(Map<String, float[]> values, Map<String, long[]> shapes) implements WeightSource {
    @Override
    public Path location() {
      return Path.of("<test weights>");
    }

    @Override
    public List<String> names() {
      return List.copyOf(values.keySet());
    }

    @Override
    public boolean contains(String name) {
      return values.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
      return new TensorInfo(name, DType.F32, shapes.get(name), null, 0, values.get(name).length * 4L);
    }

    @Override
    public ByteBuffer bytes(String name) {
      ByteBuffer b = ByteBuffer.allocate(values.get(name).length * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (float f : values.get(name)) {
        b.putFloat(f);
      }
      return b.flip();
    }

    @Override
    public void close() {}
  }

  static final float U = 0x1p-8f; // half a bf16 step at [1, 2)

  /** [out 3, in 4]: ties (to even, either way, both signs), just past a tie, and values with low bits set. */
  static final float[] W = {
    1 + U, 1 + 3 * U, -(1 + U), -(1 + 3 * U),
    1 + U + 0x1p-16f, 1.5f + 5 * 0x1p-12f, -1.25f - 0x1p-10f, 1.75f,
    -1.0f - 7 * 0x1p-11f, 1 + 127 * 0x1p-7f + U, 1.3f, -1.7f
  };
  static final float[] B = {0.1f, -0.2f, 0.3f};

  static Floats checkpoint() {
    Map<String, float[]> v = new LinkedHashMap<>();
    Map<String, long[]> s = new LinkedHashMap<>();
    for (String n : new String[] {"frozen", "trained"}) {
      v.put(n + ".weight", W);
      s.put(n + ".weight", new long[] {3, 4});
      v.put(n + ".bias", B);
      s.put(n + ".bias", new long[] {3});
    }
    return new Floats(v, s);
  }

  @Test
  void frozenWeightsAreRoundedToNearestEvenBf16TrainableOnesStayFloat32() {
    assertThat(bf16(1 + U)).isEqualTo(1f); // the ties of W round to the even neighbour
    assertThat(bf16(1 + 3 * U)).isEqualTo(1 + 4 * U);
    assertThat(bf16(-(1 + U))).isEqualTo(-1f);
    assertThat(bf16(1 + U + 0x1p-16f)).isEqualTo(1 + 2 * U);
    SameDiff sd = Graphs.newGraph();
    try (ParameterBinder p = new ParameterBinder(sd, checkpoint(), n -> n.startsWith("trained."), LinearPrecision.BF16)) {
      Linear frozen = Linear.load(p, "frozen", true);
      Linear trained = Linear.load(p, "trained", true);
      assertThat(p.precision()).isEqualTo(LinearPrecision.BF16);
      assertThat(frozen.weightT().dataType()).isEqualTo(DataType.BFLOAT16);
      assertThat(frozen.inFeatures()).isEqualTo(4L);
      assertThat(frozen.outFeatures()).isEqualTo(3L);
      assertThat(p.isTransposed("frozen.weight")).isTrue();
      assertThat(trained.weightT().dataType()).isEqualTo(DataType.FLOAT);
      assertThat(p.parameter("frozen.bias").dataType()).isEqualTo(DataType.FLOAT);
      // the values held: the plain [in, out] matrix (or, packed for oneDNN 3.3, its product with the identity)
      INDArray wt = frozen.packed() == null ? frozen.weightT().getArr().castTo(DataType.FLOAT) : packedValues(frozen);
      INDArray tt = trained.weightT().getArr();
      for (int o = 0; o < 3; o++) {
        for (int k = 0; k < 4; k++) {
          assertThat(wt.getFloat(k, o)).as("frozen [%d, %d]", o, k).isEqualTo(bf16(W[o * 4 + k]));
          assertThat(tt.getFloat(k, o)).as("trained [%d, %d]", o, k).isEqualTo(W[o * 4 + k]);
        }
      }
    }
    // the default is float32
    try (ParameterBinder p = new ParameterBinder(Graphs.newGraph(), checkpoint())) {
      assertThat(p.precision()).isEqualTo(LinearPrecision.FLOAT32);
      assertThat(p.linearWeight("frozen.weight").dataType()).isEqualTo(DataType.FLOAT);
    }
  }

  private static INDArray packedValues(Linear l) {
    INDArray out = org.nd4j.linalg.factory.Nd4j.createUninitialized(DataType.FLOAT, l.inFeatures(), l.outFeatures());
    OneDnn.multiply(org.nd4j.linalg.factory.Nd4j.eye(l.inFeatures()).castTo(DataType.FLOAT), l.packed(), out);
    return out;
  }

  @Test
  void bf16ProductIsRoundedToBf16BeforeTheFloat32Bias() {
    SameDiff sd = Graphs.newGraph();
    Linear frozen;
    Linear trained;
    try (ParameterBinder p = new ParameterBinder(sd, checkpoint(), n -> n.startsWith("trained."), LinearPrecision.BF16)) {
      frozen = Linear.load(p, "frozen", true);
      trained = Linear.load(p, "trained", true);
    }
    SDVariable in = sd.placeHolder("x", DataType.FLOAT, -1, -1, 4);
    SDVariable yBf16 = frozen.forward(in, 3);
    SDVariable yFloat = trained.forward(in, 3);
    Nd4j.getRandom().setSeed(5);
    INDArray x = Nd4j.rand(DataType.FLOAT, 2, 5, 4).addi(1); // [1, 2), low bits set: rounded when cast
    x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(1)).negi();
    Map<String, INDArray> out = sd.output(Map.of("x", x), yBf16.name(), yFloat.name());
    INDArray got = out.get(yBf16.name());
    INDArray exact = out.get(yFloat.name());
    assertThat(got.dataType()).isEqualTo(DataType.FLOAT);
    assertThat(got.shape()).containsExactly(2L, 5L, 3L);
    int rounded = 0;
    for (int b = 0; b < 2; b++) {
      for (int t = 0; t < 5; t++) {
        for (int o = 0; o < 3; o++) {
          double product = 0;
          double full = B[o];
          for (int k = 0; k < 4; k++) {
            float xv = x.getFloat(b, t, k);
            product += (double) bf16(xv) * bf16(W[o * 4 + k]);
            full += (double) xv * W[o * 4 + k];
          }
          float want = bf16((float) product) + B[o];
          assertThat(got.getFloat(b, t, o)).as("[%d, %d, %d]", b, t, o).isEqualTo(want);
          assertThat(exact.getDouble(b, t, o)).isCloseTo(full, within(1e-5));
          rounded += bf16((float) product) != (float) product ? 1 : 0;
        }
      }
    }
    assertThat(rounded).as("products that bf16 rounds").isGreaterThan(20);
  }

  @Test
  void computeOptionParsesFloat32AndBf16Only() {
    assertThat(LinearPrecision.parse("bf16")).isEqualTo(LinearPrecision.BF16);
    assertThat(LinearPrecision.parse("FLOAT32")).isEqualTo(LinearPrecision.FLOAT32);
    assertThat(LinearPrecision.BF16).hasToString("bf16");
    assertThatThrownBy(() -> LinearPrecision.parse("fp16")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown compute precision 'fp16' (float32, bf16)");
  }
}
