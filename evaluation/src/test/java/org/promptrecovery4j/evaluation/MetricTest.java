package org.promptrecovery4j.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The SCS arithmetic, batching and ordering on the 615 REAL sentence-t5-base embeddings of shared/. */
class MetricTest {

  static List<String> prompts = new ArrayList<>();
  static Map<String, float[]> embeddings = new HashMap<>();

  @BeforeAll
  static void readRealEmbeddings() throws Exception {
    Path f = Path.of(System.getProperty("pr4j.shared", "../../shared"), "data", "st5_prompt_embeddings.json");
    if (!Files.isRegularFile(f)) {
      return;
    }
    for (JsonNode n : new ObjectMapper().readTree(f.toFile())) {
      JsonNode e = n.get("embedding");
      float[] v = new float[e.size()];
      for (int i = 0; i < v.length; i++) {
        v[i] = e.get(i).floatValue();
      }
      prompts.add(n.get("prompt").asText());
      embeddings.put(n.get("prompt").asText(), v);
    }
  }

  static void assumeData() {
    Assumptions.assumeTrue(prompts.size() == 615, "shared/data/st5_prompt_embeddings.json absent: skipped");
  }

  /** A lookup "embedder" over the real embeddings that records the calls it gets. */
  static TextEmbedder lookup(AtomicInteger texts) {
    return list -> {
      texts.addAndGet(list.size());
      float[][] out = new float[list.size()][];
      for (int i = 0; i < out.length; i++) {
        out[i] = embeddings.get(list.get(i));
      }
      return out;
    };
  }

  @Test
  void bestSingleConstantPromptScores0544AgainstTheOthers() {
    assumeData();
    AtomicInteger embedded = new AtomicInteger();
    Metric metric = new Metric(lookup(embedded));
    double best = -1;
    String bestPrompt = null;
    for (String c : prompts) {
      List<String> truth = new ArrayList<>(prompts);
      truth.remove(c);
      double s = metric.score(Collections.nCopies(truth.size(), c), truth);
      if (s > best) {
        best = s;
        bestPrompt = c;
      }
    }
    assertThat(best).isCloseTo(0.544, within(5e-4));
    // the same through the embeddings-level API
    float[][] others = prompts.stream().filter(p -> true).map(embeddings::get).toArray(float[][]::new);
    List<float[]> rest = new ArrayList<>(List.of(others));
    rest.remove(embeddings.get(bestPrompt));
    assertThat(Metric.constantAnswerScore(embeddings.get(bestPrompt), rest.toArray(float[][]::new), 3))
        .isCloseTo(best, within(1e-12));
    // each text embedded once per call (615 truths + 1 constant), not once per row
    assertThat(embedded.get()).isEqualTo(615 * 615);
  }

  @Test
  void normalisedMeanEmbeddingScores0698() {
    assumeData();
    float[][] all = prompts.stream().map(embeddings::get).toArray(float[][]::new);
    float[] mean = new float[all[0].length];
    for (float[] e : all) {
      for (int i = 0; i < mean.length; i++) {
        mean[i] += e[i] / all.length;
      }
    }
    double norm = 0;
    for (float v : mean) {
      norm += v * v;
    }
    for (int i = 0; i < mean.length; i++) {
      mean[i] /= (float) Math.sqrt(norm);
    }
    assertThat(Metric.constantAnswerScore(mean, all, Metric.KAGGLE_EXPONENT)).isCloseTo(0.698, within(5e-4));
  }

  @Test
  void rowScoresKeepTheOrderOfShuffledPairs() {
    assumeData();
    List<String> truth = new ArrayList<>(prompts);
    List<String> pred = new ArrayList<>(prompts);
    Collections.shuffle(pred, new Random(7));
    double[] rows = new Metric(lookup(new AtomicInteger()), 3).rowScores(pred, truth);
    for (int i = 0; i < rows.length; i++) {
      double cos = SharpenedCosine.cosine(embeddings.get(pred.get(i)), embeddings.get(truth.get(i)));
      assertThat(rows[i]).isCloseTo(cos * cos * cos, within(1e-12));
    }
    assertThat(new Metric(lookup(new AtomicInteger())).score(truth, truth)).isCloseTo(1.0, within(1e-6));
    assertThat(new Metric(lookup(new AtomicInteger()), 1).score(pred, truth))
        .isCloseTo(Metric.mean(Metric.rowScores(
            pred.stream().map(embeddings::get).toArray(float[][]::new),
            truth.stream().map(embeddings::get).toArray(float[][]::new), 1)), within(1e-12));
  }

  @Test
  void sharpeningArithmetic() {
    assertThat(SharpenedCosine.sharpen(0.5, 3)).isEqualTo(0.125);
    assertThat(SharpenedCosine.sharpen(-0.5, 3)).isEqualTo(-0.125);
    assertThat(SharpenedCosine.score(new float[] {1, 0}, new float[] {2, 2}, 3)).isCloseTo(Math.pow(Math.sqrt(0.5), 3), within(1e-12));
    assertThatThrownBy(() -> new Metric(l -> new float[0][], 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Metric(l -> new float[0][]).score(List.of("a"), List.of())).hasMessageContaining("1 predictions for 0");
  }

  @Test
  void joinFollowsKaggleRules() {
    List<Submission.Row> truth = List.of(new Submission.Row("a", "x"), new Submission.Row("b", "y"), new Submission.Row("c", "z"));
    Submission.Joined j = Submission.join(truth, List.of(new Submission.Row("c", "3"), new Submission.Row("a", "1"), new Submission.Row("b", "2")));
    assertThat(j.ids()).containsExactly("a", "b", "c");
    assertThat(j.predicted()).containsExactly("1", "2", "3");
    assertThat(j.truth()).containsExactly("x", "y", "z");
    assertThatThrownBy(() -> Submission.join(truth, List.of(new Submission.Row("a", "1"), new Submission.Row("b", " "), new Submission.Row("q", "2"))))
        .hasMessageContaining("1 ids not in the truth (q)")
        .hasMessageContaining("1 ids without a prediction (c)")
        .hasMessageContaining("1 blank predictions (b)");
    assertThatThrownBy(() -> Submission.join(truth, List.of(new Submission.Row("a", "1"), new Submission.Row("a", "2"))))
        .hasMessageContaining("duplicate ids in the predictions (a)");
  }
}
