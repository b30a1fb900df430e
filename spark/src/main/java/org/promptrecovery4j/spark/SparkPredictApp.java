package org.promptrecovery4j.spark;

import java.io.IOException;

/**
 * {@code predict} as a Spark application: {@link SparkApp} with the job {@code predict}, kept for
 * {@code spark-submit --class org.promptrecovery4j.spark.SparkPredictApp prompt-recovery-spark.jar --input ...
 * --config ... --output ...} (the same options, checks and summary line as {@code SparkApp predict}).
 */
public final class SparkPredictApp {

  private SparkPredictApp() {}

  /** The command line of {@code SparkApp predict ARGS}. */
  static SparkApp.Options options(String... args) {
    return SparkApp.Options.parse(withJob(args));
  }

  public static void main(String[] args) throws IOException {
    SparkApp.main("SparkPredictApp", withJob(args));
  }

  private static String[] withJob(String[] args) {
    String[] a = new String[args.length + 1];
    a[0] = "predict";
    System.arraycopy(args, 0, a, 1, args.length);
    return a;
  }
}
