// A fast predict config of the repository's tiny random-weight fixtures, as spark's RealRowsSparkPredictTest uses
// (regressor: tiny DeBERTa features, a seeded head, tiny sentence-t5 over the built-in prompt bank), for measuring the
// Spark plumbing, not the models. Run by tools/spark/local-cluster.sh --config tiny:
//   java -cp prompt-recovery-spark.jar:SPARK_JARS/* tools/spark/TinyConfig.java FIXTURES_DIR OUT_DIR
import java.nio.file.Files;
import java.nio.file.Path;
import org.promptrecovery4j.training.head.HeadTrainer;
import org.promptrecovery4j.training.head.RegressionHead;

public class TinyConfig {
  public static void main(String[] args) throws Exception {
    Path fixtures = Path.of(args[0]).toAbsolutePath();
    Path out = Path.of(args[1]).toAbsolutePath();
    Path head = Files.createDirectories(out.resolve("head"));
    RegressionHead.initialize(RegressionHead.Config.of(128, 16, 24), 7).save(head.resolve(HeadTrainer.HEAD));
    Files.writeString(out.resolve("recovery.json"), """
        {"recoverers": [{"type": "regressor", "deberta": "%s", "head": "head", "sentence_t5": "%s", "bank": "builtin",
          "top_k": 2}],
         "clean_rewritten_text": true, "batch_size": 16}
        """.formatted(fixtures.resolve("deberta-v3-tiny-features"), fixtures.resolve("sentence-t5-tiny-text")));
    System.out.println(out.resolve("recovery.json"));
  }
}
