package org.promptrecovery4j.models.nn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.Fixtures;
import org.promptrecovery4j.models.ForwardModel;
import org.promptrecovery4j.models.Models;

/** {@link ArrayPool}: what it reuses, what it refuses, its cap; and a forward pass with it equal to one with ND4J's cache. */
class ArrayPoolTest {

  @Test
  void reusesAReleasedBufferForAnyShapeOfItsLength() {
    ArrayPool pool = new ArrayPool(1L << 20);
    INDArray a = pool.allocate(false, DataType.FLOAT, 64, 100);
    a.assign(1f);
    long address = a.data().address();
    pool.release(a);
    assertThat(pool.heldBytes()).isEqualTo(64 * 100 * 4);
    INDArray b = pool.allocate(false, DataType.FLOAT, 10, 20, 32); // 6400 elements, another shape
    assertThat(b.data().address()).isEqualTo(address);
    assertThat(b.shape()).containsExactly(10, 20, 32);
    assertThat(b.isView()).isFalse(); // so the session's release will take it back
    assertThat(b.ordering()).isEqualTo('c');
    assertThat(pool.hits()).isEqualTo(1);
    assertThat(pool.heldBytes()).isZero();
    b.assign(2f);
    assertThat(b.getFloat(9, 19, 31)).isEqualTo(2f);
    pool.release(b);
    assertThat(pool.heldBytes()).isEqualTo(64 * 100 * 4);
  }

  @Test
  void refusesOtherTypesAndOtherLengths() {
    ArrayPool pool = new ArrayPool(1L << 24);
    pool.release(pool.allocate(false, DataType.FLOAT, 100_000));
    assertThat(pool.allocate(false, DataType.BFLOAT16, 100_000).data().address()).isNotZero();
    pool.allocate(false, DataType.FLOAT, 100_001); // larger than what is held
    pool.allocate(false, DataType.FLOAT, 99_999); // smaller: it would be a view of the held buffer
    assertThat(pool.hits()).isZero();
    assertThat(pool.misses()).isEqualTo(4);
    assertThat(pool.heldBytes()).isEqualTo(400_000);
  }

  @Test
  void doesNotHoldViewsOrArraysItMayNotClose() {
    ArrayPool pool = new ArrayPool(1L << 20);
    INDArray base = Nd4j.create(DataType.FLOAT, 10, 10);
    pool.release(base.getRow(3)); // a view of another array's buffer
    INDArray constant = Nd4j.create(DataType.FLOAT, 10);
    constant.setCloseable(false);
    pool.release(constant);
    assertThat(pool.heldBytes()).isZero();
    assertThat(base.wasClosed()).isFalse();
  }

  @Test
  void evictsTheOldestPastItsCap() {
    ArrayPool pool = new ArrayPool(10_000);
    INDArray first = pool.allocate(false, DataType.FLOAT, 1000);
    INDArray second = pool.allocate(false, DataType.FLOAT, 1500);
    pool.release(first);
    pool.release(second); // 4000 + 6000 bytes: at the cap
    assertThat(pool.heldBytes()).isEqualTo(10_000);
    pool.release(pool.allocate(false, DataType.FLOAT, 2000)); // 8000 bytes: the oldest (first) and then second go
    assertThat(first.wasClosed()).isTrue();
    assertThat(second.wasClosed()).isTrue();
    assertThat(pool.heldBytes()).isEqualTo(8000);
    INDArray tooBig = pool.allocate(false, DataType.FLOAT, 5000);
    pool.release(tooBig);
    assertThat(tooBig.wasClosed()).isTrue();
  }

  /** The same forward pass, three times in a row (so arrays are reused), with the pool and with ND4J's own cache. */
  @Test
  void aForwardPassWithThePoolEqualsOneWithNd4jsCache() throws Exception {
    Map<String, Object> in = Fixtures.read("tiny-mistral-gqa2", "inputs.json");
    INDArray ids = (INDArray) in.get("input_ids");
    INDArray mask = (INDArray) in.get("attention_mask");
    INDArray[] pooled = new INDArray[3];
    INDArray[] cached = new INDArray[3];
    try (ForwardModel m = Models.load(Fixtures.dir("tiny-mistral-gqa2"))) {
      for (int i = 0; i < 3; i++) {
        pooled[i] = ((INDArray) m.forward(ids, mask, null, List.of("**")).get("logits")).dup();
      }
    }
    System.setProperty("pr4j.nd4jArrayCache", "true");
    try (ForwardModel m = Models.load(Fixtures.dir("tiny-mistral-gqa2"))) {
      for (int i = 0; i < 3; i++) {
        cached[i] = ((INDArray) m.forward(ids, mask, null, List.of("**")).get("logits")).dup();
      }
    } finally {
      System.clearProperty("pr4j.nd4jArrayCache");
    }
    for (int i = 0; i < 3; i++) {
      assertThat(pooled[i]).isEqualTo(cached[0]);
      assertThat(cached[i]).isEqualTo(cached[0]);
    }
  }
}
