package org.promptrecovery4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Tensor JSON files built to hurt: each is a named error (the file and tensor named), never an OOM or a crash. */
class TensorJsonHostileTest {

  @TempDir Path tmp;

  private Path file(String text) throws IOException {
    return Files.writeString(tmp.resolve("hostile.json"), text);
  }

  @Test
  void aShapeOf10To15ValuesWithTwoGivenIsRefusedBeforeAllocating() throws IOException {
    Path p = file("{\"x\": {\"shape\": [1000000, 1000000000], \"dtype\": \"float32\", \"data\": [1, 2]}}");
    assertThatThrownBy(() -> TensorJson.read(p)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("hostile.json: tensor 'x' has 2 values for shape [1000000, 1000000000]");
  }

  @Test
  void aShapeWhoseProductOverflowsALongIsRefused() throws IOException {
    Path p = file("{\"x\": {\"shape\": [4294967296, 4294967296, 4294967296], \"data\": [1]}}");
    assertThatThrownBy(() -> TensorJson.read(p)).hasMessageContaining("hostile.json: tensor 'x' has 1 values")
        .hasMessageContaining("more values than a long counts");
  }

  @Test
  void negativeOrFractionalSizesAreRefused() throws IOException {
    Path p = file("{\"x\": {\"shape\": [-1, -2], \"data\": [1, 2]}}");
    assertThatThrownBy(() -> TensorJson.read(p)).hasMessageContaining("hostile.json: tensor 'x': shape[0] = -1 is not a size");
    Path q = file("{\"x\": {\"shape\": [1.5], \"data\": [1]}}");
    assertThatThrownBy(() -> TensorJson.read(q)).hasMessageContaining("shape[0] = 1.5 is not a size");
  }

  @Test
  void nestingOf100000LevelsIsANamedErrorNotAStackOverflow() throws IOException {
    int depth = 100_000;
    Path p = file("{\"x\": {\"shape\": [1], \"data\": " + "[".repeat(depth) + "1" + "]".repeat(depth) + "}}");
    assertThatThrownBy(() -> TensorJson.read(p)).isInstanceOf(IOException.class)
        .hasMessageContaining("hostile.json is not valid JSON")
        .hasMessageContaining("nesting depth"); // Jackson's StreamReadConstraints: at most 1000 levels
  }

  @Test
  void nestingWithinJacksonsLimitIsRead() throws IOException {
    int depth = 900;
    Path p = file("{\"x\": {\"shape\": [1], \"data\": " + "[".repeat(depth) + "7" + "]".repeat(depth) + "}}");
    Map<String, Object> m = TensorJson.read(p);
    assertThat(((INDArray) m.get("x")).getFloat(0)).isEqualTo(7f);
  }

  @Test
  void nonNumbersAreNamedAndNaNStringsRead() throws IOException {
    Path p = file("{\"x\": {\"shape\": [3], \"data\": [\"NaN\", \"Infinity\", \"-Infinity\"]}}");
    INDArray x = (INDArray) TensorJson.read(p).get("x");
    assertThat(x.getFloat(0)).isNaN();
    assertThat(x.getFloat(1)).isEqualTo(Float.POSITIVE_INFINITY);
    Path q = file("{\"x\": {\"shape\": [2], \"data\": [1, \"abc\"]}}");
    assertThatThrownBy(() -> TensorJson.read(q)).hasMessageContaining("hostile.json: tensor 'x': value 1 = \"abc\" is not a number");
    Path r = file("{\"x\": {\"shape\": [2], \"data\": [1, {\"a\": 1}]}}");
    assertThatThrownBy(() -> TensorJson.read(r)).hasMessageContaining("value 1 = {\"a\":1} is not a number");
  }

  @Test
  void integersOutsideTheDtypeAreNamed() throws IOException {
    Path p = file("{\"x\": {\"shape\": [1], \"dtype\": \"int32\", \"data\": [2147483648]}}");
    assertThatThrownBy(() -> TensorJson.read(p)).hasMessageContaining("value 0 = 2147483648 is not a int32");
    Path q = file("{\"x\": {\"shape\": [1], \"dtype\": \"int64\", \"data\": [1e400]}}");
    assertThatThrownBy(() -> TensorJson.read(q)).hasMessageContaining("hostile.json: tensor 'x': value 0");
    Path r = file("{\"x\": {\"shape\": [1], \"dtype\": \"int64\", \"data\": [99999999999999999999999]}}");
    assertThatThrownBy(() -> TensorJson.read(r)).hasMessageContaining("is not a int64");
  }
}
