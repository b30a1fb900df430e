package org.promptrecovery4j.models.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link HeadsOp} against the graph ops it replaces in the decoders' attention (slices of the fused q/k/v, {@code x·cos +
 * (x R)·sin}, reshapes and permutes into {@code [B, KV, G·S, hd]}): the same float32 operations, so equal to the bit.
 */
class HeadsOpTest {

  @BeforeAll
  static void needsJavaOps() {
    Assumptions.assumeTrue(ConcatOp.available(), "ops computed in Java need ND4J's CPU backend");
  }

  /** The graph form, as CausalLM builds it without ops computed in Java. */
  private static SDVariable graphHeads(SDVariable qkv, SDVariable cos, SDVariable sin, SDVariable r, int b, int s,
      int first, int heads, int groups, int hd, int total, boolean rotate) {
    SDVariable x = qkv.reshape(-1, total, hd).get(SDIndex.all(), SDIndex.interval(first, first + heads), SDIndex.all());
    if (rotate) {
      x = x.mul(cos).add(x.reshape(-1, hd).mmul(r).reshape(-1, heads, hd).mul(sin));
    }
    return x.reshape(b, s, heads / groups, groups, hd).permute(0, 2, 3, 1, 4).reshape(b, heads / groups, groups * s, hd);
  }

  private static void check(int b, int s, int h, int kv, int hd, int rotaryDim) {
    int total = h + 2 * kv;
    Rotary rotary = new Rotary(hd, rotaryDim, 10000);
    int[] positions = new int[b * s];
    for (int i = 0; i < positions.length; i++) {
      positions[i] = 5 + i % s;
    }
    INDArray[] cs = rotary.cosSin(positions);
    SameDiff sd = SameDiff.create();
    SDVariable qkv = sd.placeHolder("qkv", DataType.FLOAT, -1, total * hd);
    SDVariable cos = sd.constant("cos", cs[0]);
    SDVariable sin = sd.constant("sin", cs[1]);
    SDVariable r = sd.constant("r", rotary.rotateHalfMatrix());
    SDVariable bs = sd.constant("bs", Nd4j.createFromArray((long) b, s));
    String[] names = new String[6];
    int[][] parts = {{0, h, h / kv, rotaryDim}, {h, kv, 1, rotaryDim}, {h + kv, kv, 1, 0}};
    for (int i = 0; i < 3; i++) {
      int[] p = parts[i];
      names[2 * i] = HeadsOp.apply(qkv, bs, cos, sin, p[0], p[1], p[2], hd, p[3]).name();
      names[2 * i + 1] = graphHeads(qkv, cos, sin, r, b, s, p[0], p[1], p[2], hd, total, p[3] > 0).name();
    }
    Map<String, INDArray> out = sd.output(Map.of("qkv", Nd4j.randn(DataType.FLOAT, b * s, total * hd)), names);
    for (int i = 0; i < 3; i++) {
      INDArray fast = out.get(names[2 * i]);
      INDArray graph = out.get(names[2 * i + 1]);
      assertThat(fast.shape()).as("part %d", i).containsExactly(graph.shape());
      assertThat(fast.sub(graph).amaxNumber().doubleValue()).as("part %d of B=%d S=%d H=%d KV=%d hd=%d rotary %d", i, b, s, h,
          kv, hd, rotaryDim).isZero();
    }
  }

  @Test
  void equalsTheGraphToTheBit() {
    check(2, 3, 4, 2, 8, 8); // grouped-query, full rotary
    check(1, 1, 4, 1, 8, 8); // a decode step, multi-query
    check(3, 2, 3, 3, 10, 4); // multi-head, partial rotary (phi)
    check(1, 300, 32, 8, 128, 128); // a prefill big enough to share tokens between threads
  }

  @Test
  void badShapesAreNamedErrors() {
    SameDiff sd = SameDiff.create();
    SDVariable qkv = sd.constant("qkv", Nd4j.rand(DataType.FLOAT, 6, 32));
    SDVariable cos = sd.constant("cos", Nd4j.ones(DataType.FLOAT, 6, 1, 8));
    SDVariable bs = sd.constant("bs", Nd4j.createFromArray(2L, 4L));
    SDVariable y = HeadsOp.apply(qkv, bs, cos, cos, 0, 2, 1, 8, 8);
    assertThatThrownBy(y::eval).hasMessageContaining("[6, 32]").hasMessageContaining("do not fit");
    assertThatThrownBy(() -> HeadsOp.apply(qkv, bs, cos, cos, 0, 3, 2, 8, 8))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("groups of 2");
  }
}
