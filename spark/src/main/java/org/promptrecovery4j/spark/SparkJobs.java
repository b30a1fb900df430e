package org.promptrecovery4j.spark;

import static org.apache.spark.sql.functions.col;

import java.io.PrintStream;
import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.WeakHashMap;
import java.util.function.Function;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;

/**
 * What the module's jobs share on top of {@link ExecutorModels}: reading rows with checked columns and ids
 * ({@link #read}), each partition processed a batch at a time
 * ({@link Batches}), the rows-done / rows-failed accumulators every job counts in ({@link Counters}, named
 * {@code pr4j <job>: rows done} and {@code pr4j <job>: rows failed} in Spark's UI), and the summary line the write
 * helpers print ({@link #timed}).
 */
final class SparkJobs {

  /**
   * Test hook (never set outside tests): the first attempt of the task of this partition fails after its first batch
   * (or at its end), so that Spark retries it.
   */
  static final String FAIL_ONCE_PARTITION_PROPERTY = "pr4j.test.spark.failOncePartition";

  private SparkJobs() {}

  /**
   * Rows from a Parquet file or folder (a path ending in {@code .parquet}) or a CSV file or folder of CSVs with a
   * header (Kaggle's quoting: fields in double quotes, quotes doubled, line breaks inside quotes), every column as
   * text; {@code required} columns, ids present and each id once are checked, with errors naming the path.
   */
  static Dataset<Row> read(SparkSession spark, String path, List<String> required) {
    Dataset<Row> d;
    if (path.toLowerCase(Locale.ROOT).endsWith(".parquet")) {
      d = spark.read().parquet(path);
    } else {
      d = spark.read().option("header", "true").option("multiLine", "true").option("quote", "\"")
          .option("escape", "\"").option("mode", "FAILFAST").option("inferSchema", "false").csv(path);
    }
    requireColumns(path + ":", d, required);
    long blank = d.filter(col(SparkPredict.ID).isNull().or(org.apache.spark.sql.functions.trim(col(SparkPredict.ID)).equalTo(""))).count();
    if (blank > 0) {
      throw new IllegalArgumentException(path + ": " + blank + " rows have no id");
    }
    List<Row> twice = d.groupBy(col(SparkPredict.ID)).count().filter(col("count").gt(1)).limit(5).collectAsList();
    if (!twice.isEmpty()) {
      throw new IllegalArgumentException(path + ": ids that are not unique (first ones): "
          + String.join(", ", twice.stream().map(r -> String.valueOf(r.get(0)) + " (" + r.getLong(1) + " rows)").toList()));
    }
    return d;
  }

  /**
   * The accumulators of one job, made on the driver: rows answered and rows that failed (got the fallback, or an error
   * instead of a value). Updated by the tasks as each batch finishes; a task attempt that fails does not count (Spark
   * drops its updates), but a partition computed twice (a result used by two actions without {@code cache()}) counts
   * twice: the write helpers report the difference over their own action.
   */
  record Counters(String job, LongAccumulator done, LongAccumulator failed) implements Serializable {
    static Counters register(Dataset<Row> rows, String job) {
      var sc = rows.sparkSession().sparkContext();
      return new Counters(job, sc.longAccumulator("pr4j " + job + ": rows done"),
          sc.longAccumulator("pr4j " + job + ": rows failed"));
    }
  }

  /** The counters of each job result this driver made (weakly held: a result no longer referenced is forgotten). */
  private static final Map<Dataset<Row>, Counters> COUNTERS = Collections.synchronizedMap(new WeakHashMap<>());

  /** Remembers {@code counters} as those of {@code result}; returns {@code result}. */
  static Dataset<Row> attach(Dataset<Row> result, Counters counters) {
    COUNTERS.put(result, counters);
    return result;
  }

  /** The counters of a result of this module's jobs, or null for another Dataset (e.g. one derived from it). */
  static Counters countersOf(Dataset<Row> result) {
    return COUNTERS.get(result);
  }

  /**
   * Runs {@code action} (a write of {@code result}) and prints one summary line to {@code log}: rows, failed rows,
   * seconds and rows/s over this action (the accumulators' growth during it), and where it went.
   */
  static void timed(Dataset<Row> result, String where, PrintStream log, Runnable action) {
    Counters c = countersOf(result);
    long done0 = c == null ? 0 : c.done().value();
    long failed0 = c == null ? 0 : c.failed().value();
    long t0 = System.nanoTime();
    action.run();
    double s = (System.nanoTime() - t0) / 1e9;
    if (c == null) {
      log.printf(Locale.ROOT, "spark: wrote %s in %.1f s%n", where, s);
      return;
    }
    long done = c.done().value() - done0;
    long failed = c.failed().value() - failed0;
    log.printf(Locale.ROOT, "spark %s: %d rows, %d failed, %.1f s, %.2f rows/s -> %s%n", c.job(), done, failed, s,
        s > 0 ? done / s : 0.0, where);
  }

  /**
   * One partition's rows, handed to {@code step} a batch at a time; the step's answers handed out in order. Each
   * answer row whose column {@code errorColumn} is not null counts as failed. Counts go to the job's accumulators
   * as each batch finishes.
   */
  static final class Batches implements Iterator<Row> {
    private final Iterator<Row> in;
    private final int batchSize;
    private final Function<List<Row>, List<Row>> step;
    private final Counters counters;
    private final int errorColumn;
    private final ArrayDeque<Row> out = new ArrayDeque<>();
    private final boolean failOnce;
    private int batches;

    Batches(Iterator<Row> in, int batchSize, Function<List<Row>, List<Row>> step, Counters counters, int errorColumn) {
      this.in = in;
      this.batchSize = batchSize;
      this.step = step;
      this.counters = counters;
      this.errorColumn = errorColumn;
      TaskContext t = TaskContext.get();
      String p = System.getProperty(FAIL_ONCE_PARTITION_PROPERTY);
      this.failOnce = p != null && t != null && t.attemptNumber() == 0 && t.partitionId() == Integer.parseInt(p);
    }

    @Override
    public boolean hasNext() {
      if (out.isEmpty()) {
        if (failOnce && batches > 0) {
          throw new IllegalStateException("test hook " + FAIL_ONCE_PARTITION_PROPERTY + ": task of partition "
              + TaskContext.getPartitionId() + " fails on its first attempt");
        }
        if (in.hasNext()) {
          nextBatch();
        }
      }
      return !out.isEmpty();
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return out.poll();
    }

    private void nextBatch() {
      List<Row> batch = new ArrayList<>(batchSize);
      while (batch.size() < batchSize && in.hasNext()) {
        batch.add(in.next());
      }
      List<Row> answers = step.apply(batch);
      if (answers.size() != batch.size()) {
        throw new IllegalStateException(answers.size() + " answers for a batch of " + batch.size() + " rows");
      }
      long failed = answers.stream().filter(r -> !r.isNullAt(errorColumn)).count();
      out.addAll(answers);
      counters.done().add(answers.size());
      counters.failed().add(failed);
      batches++;
    }
  }

  /** A model call on rows (a whole batch, or one row) that gives one vector per row. */
  @FunctionalInterface
  interface VectorStep {
    float[][] apply(List<Row> rows) throws java.io.IOException;
  }

  /**
   * {@code (id, vector, error)} for each row of {@code batch}: the batch at once, else row by row, a failing row
   * getting a null vector and its error (the embed and features jobs). An {@link java.io.IOException} (weights that do
   * not load) fails the task: no row could succeed.
   */
  static List<Row> vectorsOrErrors(String job, String model, List<Row> batch, VectorStep step) {
    List<Row> out = new ArrayList<>(batch.size());
    try {
      float[][] v = step.apply(batch);
      for (int i = 0; i < v.length; i++) {
        out.add(org.apache.spark.sql.RowFactory.create(batch.get(i).getString(0), boxed(v[i]), null));
      }
      return out;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(job + " " + model + ": " + e.getMessage(), e);
    } catch (RuntimeException | OutOfMemoryError batchFailure) {
      out.clear();
    }
    for (Row r : batch) {
      String id = r.getString(0);
      try {
        out.add(org.apache.spark.sql.RowFactory.create(id, boxed(step.apply(List.of(r))[0]), null));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(job + " " + model + ": " + e.getMessage(), e);
      } catch (RuntimeException | OutOfMemoryError e) {
        System.err.println(job + ": row " + id + " failed: " + error(e));
        out.add(org.apache.spark.sql.RowFactory.create(id, null, error(e)));
      }
    }
    return out;
  }

  /** A float[] as Spark's array<float> value. */
  static Float[] boxed(float[] v) {
    Float[] b = new Float[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = v[i];
    }
    return b;
  }

  /** {@code ExceptionClass: message}, as the jobs' error column holds it. */
  static String error(Throwable t) {
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }

  /** The text of column {@code i} (null reads as empty, as the single-machine jobs' CSV reader gives it). */
  static String text(Row r, int i) {
    return r.isNullAt(i) ? "" : r.getString(i);
  }

  /**
   * Every column of {@code required} is in {@code rows}, else an error: {@code <subject> no column "c" (columns: ...;
   * needed: ...)}, the subject naming the file or the job ({@code "embed: the rows have"}).
   */
  static void requireColumns(String subject, Dataset<Row> rows, List<String> required) {
    List<String> columns = Arrays.asList(rows.columns());
    for (String c : required) {
      if (!columns.contains(c)) {
        throw new IllegalArgumentException(subject + " no column \"" + c + "\" (columns: " + String.join(", ", columns)
            + "; needed: " + String.join(", ", required) + ")");
      }
    }
  }
}
