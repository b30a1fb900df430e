// A fast predict config of the repository's tiny random-weight fixtures, as spark's RealRowsSparkPredictTest uses
// (regressor: tiny DeBERTa features, a seeded head, tiny sentence-t5 over the built-in prompt bank), for measuring the
// Spark plumbing, not the models. Run by tools/spark/local-cluster.sh --config tiny (or tiny-archive):
//   java -cp prompt-recovery-spark.jar:SPARK_JARS/* tools/spark/TinyConfig.java FIXTURES_DIR OUT_DIR [--copy]
// --copy: the two fixture folders are copied into OUT_DIR and the config names them relative to itself, so that
// OUT_DIR can be packed as an archive for spark-submit --archives (docs/spark.md, "Models on the executors").
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.promptrecovery4j.training.head.HeadTrainer;
import org.promptrecovery4j.training.head.RegressionHead;

public class TinyConfig {
  public static void main(String[] args) throws Exception {
    Path fixtures = Path.of(args[0]).toAbsolutePath();
    Path out = Path.of(args[1]).toAbsolutePath();
    boolean copy = args.length > 2 && args[2].equals("--copy");
    String deberta = fixtures.resolve("deberta-v3-tiny-features").toString();
    String st5 = fixtures.resolve("sentence-t5-tiny-text").toString();
    if (copy) {
      deberta = copy(Path.of(deberta), out);
      st5 = copy(Path.of(st5), out);
    }
    Path head = Files.createDirectories(out.resolve("head"));
    RegressionHead.initialize(RegressionHead.Config.of(128, 16, 24), 7).save(head.resolve(HeadTrainer.HEAD));
    Files.writeString(out.resolve("recovery.json"), """
        {"recoverers": [{"type": "regressor", "deberta": "%s", "head": "head", "sentence_t5": "%s", "bank": "builtin",
          "top_k": 2}],
         "clean_rewritten_text": true, "batch_size": 16}
        """.formatted(deberta, st5));
    System.out.println(out.resolve("recovery.json"));
  }

  /** Copies the folder {@code from} into {@code outDir}; its name there (relative to the config). */
  static String copy(Path from, Path outDir) throws Exception {
    Path to = outDir.resolve(from.getFileName());
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
    return from.getFileName().toString();
  }
}
