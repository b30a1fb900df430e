package org.promptrecovery4j.weights;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DTypeConversionsTest {

  @Test
  void bfloat16IsTheUpperHalfOfFloat32() {
    assertThat(DTypeConversions.bf16ToFloat((short) 0x3f80)).isEqualTo(1f);
    assertThat(DTypeConversions.bf16ToFloat((short) 0xc040)).isEqualTo(-3f);
    assertThat(DTypeConversions.bf16ToFloat((short) 0x7f80)).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(DTypeConversions.bf16ToFloat((short) 0x0001)).isEqualTo(Float.intBitsToFloat(0x00010000));
    assertThat(DTypeConversions.bf16ToFloat((short) 0x7fc0)).isNaN();
  }

  @Test
  void float16CoversNormalsSubnormalsAndSpecials() {
    assertThat(DTypeConversions.f16ToFloat((short) 0x3c00)).isEqualTo(1f);
    assertThat(DTypeConversions.f16ToFloat((short) 0xc000)).isEqualTo(-2f);
    assertThat(DTypeConversions.f16ToFloat((short) 0x7bff)).isEqualTo(65504f);
    assertThat(DTypeConversions.f16ToFloat((short) 0xfbff)).isEqualTo(-65504f);
    assertThat(DTypeConversions.f16ToFloat((short) 0x0001)).isEqualTo(5.9604645e-8f); // smallest subnormal
    assertThat(DTypeConversions.f16ToFloat((short) 0x03ff)).isEqualTo(6.097555e-5f); // largest subnormal
    assertThat(DTypeConversions.f16ToFloat((short) 0x0400)).isEqualTo(6.1035156e-5f); // smallest normal
    assertThat(DTypeConversions.f16ToFloat((short) 0x8000)).isEqualTo(-0f);
    assertThat(DTypeConversions.f16ToFloat((short) 0x7c00)).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(DTypeConversions.f16ToFloat((short) 0x7e00)).isNaN();
    assertThat(DTypeConversions.f16ToFloat((short) 0x3555)).isEqualTo(0.33325195f);
  }
}
