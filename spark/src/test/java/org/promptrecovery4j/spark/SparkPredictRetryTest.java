package org.promptrecovery4j.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.recovery.RecoveryConfig;

/** A task forced to fail once ({@code local[2,3]}: tasks are retried) still gives every id once, as the single run. */
class SparkPredictRetryTest {

  static SparkSession spark;
  @TempDir static Path tmp;

  static final AtomicInteger failedTasks = new AtomicInteger();

  @BeforeAll
  static void start() {
    spark = SparkTests.session("local[2,3]");
    SparkTests.registerFirstWord();
    spark.sparkContext().addSparkListener(new SparkListener() {
      @Override
      public void onTaskEnd(SparkListenerTaskEnd end) {
        if (!end.taskInfo().successful()) {
          failedTasks.incrementAndGet();
        }
      }
    });
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  @AfterEach
  void noHook() {
    System.clearProperty(SparkPredict.FAIL_ONCE_PARTITION_PROPERTY);
  }

  @Test
  void aTaskThatFailsOnceIsRetriedAndTheWrittenOutputHasEveryIdOnce() throws Exception {
    Path in = tmp.resolve("rows.csv");
    StringBuilder csv = new StringBuilder("id,original_text,rewritten_text\n");
    for (int i = 0; i < 20; i++) {
      csv.append("r").append(i).append(",text ").append(i).append(",Word").append(i).append(" more words\n");
    }
    Files.writeString(in, csv.toString());
    RecoveryConfig config = RecoveryConfig.parse("{\"recoverers\": [{\"type\": \"test-first-word\"}], \"batch_size\": 3}",
        tmp);
    Map<String, String> single = SparkTests.singleMachine(in, config, tmp);
    Dataset<Row> rows = SparkPredict.read(spark, in.toString()).repartition(2);

    System.setProperty(SparkPredict.FAIL_ONCE_PARTITION_PROPERTY, "0");
    Dataset<Row> result = SparkPredict.predict(rows, config);
    List<Row> out = result.collectAsList();
    awaitFailedTasks(1);
    // the failed attempt's batch is not counted (Spark drops a failed attempt's accumulator updates)
    assertThat(SparkJobs.countersOf(result).done().value()).isEqualTo(20);
    assertThat(out).hasSize(20).extracting(r -> r.getString(0)).doesNotHaveDuplicates();
    assertThat(SparkTests.answers(out)).isEqualTo(single).containsEntry("r7", "Make it Word7");

    // written through Spark's commit protocol: the failed attempt's rows (one batch of partition 0) are not kept
    Path dir = tmp.resolve("out.parquet");
    java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
    SparkPredict.write(SparkPredict.predict(rows, config), dir.toString(), SparkPredict.Format.PARQUET,
        new java.io.PrintStream(log, true));
    assertThat(log.toString(java.nio.charset.StandardCharsets.UTF_8))
        .containsPattern("spark predict: 20 rows, 0 failed, [0-9.]+ s, [0-9.]+ rows/s -> " + dir);
    System.clearProperty(SparkPredict.FAIL_ONCE_PARTITION_PROPERTY);
    awaitFailedTasks(2);
    assertThat(dir.resolve("_SUCCESS")).exists();
    List<Row> back = spark.read().parquet(dir.toString()).collectAsList();
    assertThat(back).hasSize(20).extracting(r -> r.getString(0)).doesNotHaveDuplicates();
    assertThat(SparkTests.answers(back)).isEqualTo(single);
  }

  /** The listener bus is asynchronous: wait (at most 10 s) until it has seen {@code n} failed task attempts. */
  static void awaitFailedTasks(int n) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (failedTasks.get() < n && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(failedTasks.get()).as("failed task attempts (the hook fired)").isEqualTo(n);
  }
}
