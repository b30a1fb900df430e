package org.promptrecovery4j.recovery;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * How well nearest-prompt retrieval recovers a prompt from an imperfect prediction of its embedding, measured in
 * embedding space (no encoder needed): for every bank row i and each noise level, the target is the row's unit
 * embedding plus Gaussian noise, t = e_i + σ·g with E|g|² = 1, so that cos(t, e_i) ≈ 1/√(1+σ²); the level is named by
 * that nominal cosine c (σ = √(1/c² − 1)); the measured mean cos(t, e_i) is reported beside it. Two kinds of noise
 * ({@link Noise}):
 *
 * <ul>
 *   <li>{@code ISOTROPIC}: g ~ N(0, I/D). In 768 dimensions such noise is nearly orthogonal to every bank
 *       embedding, so it barely changes which prompt is nearest: an optimistic model of a regressor's error.
 *   <li>{@code DATA}: g ~ N(0, Σ/tr Σ), Σ the covariance of the bank's embeddings (drawn as Σ_j z_j·(e_j − ē),
 *       scaled): the noise lies where prompts differ from each other, so it moves a target towards other prompts,
 *       as the errors of a model trained on prompts do.
 * </ul>
 *
 * Then:
 *
 * <ul>
 *   <li><b>accuracy</b>: how often the nearest bank prompt to t is prompt i itself (bank = all rows);
 *   <li><b>retrieved SCS</b>: mean cos³(e_nearest, e_i), the score the retrieved prompt earns against the truth;
 *   <li><b>target SCS</b>: mean cos³(t, e_i), what submitting the noisy embedding itself would score;
 *   <li><b>SCS without the truth</b>: mean cos³(e_nearest, e_i) when row i is left out of the bank (the true
 *       prompt is not among the candidates, as for a hidden test set), against the <b>oracle</b> mean of
 *       max_{j≠i} cos³(e_j, e_i) (the best any other bank prompt could do).
 * </ul>
 *
 * Seeded: the same bank, levels, repeats and seed give the same numbers.
 */
public final class RetrievalNoiseStudy {

  /** The shape of the noise (see the class comment). */
  public enum Noise {
    ISOTROPIC,
    DATA
  }

  /** The measurements at one noise level (means over rows × repeats). */
  public record Level(Noise noise, double nominalCosine, double sigma, double targetCosine, double targetScs,
      double accuracy, double retrievedScs, double accuracyTop5, double retrievedScsWithoutTruth,
      double oracleScsWithoutTruth) {}

  private RetrievalNoiseStudy() {}

  /** σ for a nominal cos(target, truth) = c ∈ (0, 1]. */
  public static double sigmaFor(double cosine) {
    if (!(cosine > 0 && cosine <= 1)) {
      throw new IllegalArgumentException("a noise level is a cosine in (0, 1], not " + cosine);
    }
    return Math.sqrt(1 / (cosine * cosine) - 1);
  }

  /** The study at each nominal cosine of {@code cosines}, {@code repeats} noise draws per row. */
  public static List<Level> run(EmbeddedBank bank, Noise noise, double[] cosines, int repeats, long seed) {
    if (repeats < 1) {
      throw new IllegalArgumentException("repeats must be at least 1, is " + repeats);
    }
    int n = bank.size();
    float[][] unit = EmbeddingRetrieval.unitRows(bank.embeddings());
    EmbeddingRetrieval retrieval = new EmbeddingRetrieval(bank);
    // the best other prompt of each row: the oracle without the truth
    double oracle = 0;
    float[][] self = retrieval.cosines(unit);
    for (int i = 0; i < n; i++) {
      boolean[] skip = new boolean[n];
      skip[i] = true;
      oracle += cube(self[i][EmbeddingRetrieval.topRows(self[i], 1, skip)[0]]);
    }
    oracle /= n;
    float[][] centred = centred(unit);
    double trace = 0;
    for (float[] c : centred) {
      trace += WordEditSearch.dot(c, c);
    }
    Random random = new Random(seed);
    List<Level> out = new ArrayList<>();
    for (double c : cosines) {
      double sigma = sigmaFor(c);
      float[][] targets = noisyTargets(unit, centred, trace, noise, sigma, repeats, random);
      float[][] cos = retrieval.cosines(targets);
      double targetCos = 0;
      double targetScs = 0;
      double hits = 0;
      double hits5 = 0;
      double scs = 0;
      double scsWithout = 0;
      for (int q = 0; q < targets.length; q++) {
        int i = q % n;
        double tc = WordEditSearch.dot(EmbeddingRetrieval.unit(targets[q]), unit[i]);
        targetCos += tc;
        targetScs += cube(tc);
        int[] top5 = EmbeddingRetrieval.topRows(cos[q], 5, null);
        hits += top5[0] == i ? 1 : 0;
        for (int j : top5) {
          hits5 += j == i ? 1 : 0;
        }
        scs += cube(self[i][top5[0]]);
        boolean[] skip = new boolean[n];
        skip[i] = true;
        scsWithout += cube(self[i][EmbeddingRetrieval.topRows(cos[q], 1, skip)[0]]);
      }
      int m = targets.length;
      out.add(new Level(noise, c, sigma, targetCos / m, targetScs / m, hits / m, scs / m, hits5 / m, scsWithout / m,
          oracle));
    }
    return out;
  }

  /**
   * Noisy copies of the unit rows {@code unit}, row i of repeat r at r·n + i: e_i + σ·g (see the class comment),
   * drawn from {@code random} in that order.
   */
  public static float[][] noisyTargets(float[][] unit, Noise noise, double cosine, int repeats, Random random) {
    float[][] centred = centred(unit);
    double trace = 0;
    for (float[] c : centred) {
      trace += WordEditSearch.dot(c, c);
    }
    return noisyTargets(unit, centred, trace, noise, sigmaFor(cosine), repeats, random);
  }

  private static float[][] noisyTargets(float[][] unit, float[][] centred, double trace, Noise noise, double sigma,
      int repeats, Random random) {
    int n = unit.length;
    int d = unit[0].length;
    float[][] g = new float[n * repeats][];
    if (noise == Noise.ISOTROPIC) {
      for (int q = 0; q < g.length; q++) {
        g[q] = new float[d];
        for (int k = 0; k < d; k++) {
          g[q][k] = (float) (random.nextGaussian() / Math.sqrt(d));
        }
      }
    } else { // Z [queries, n] · centred [n, D] / √tr Σ: covariance Σ/tr Σ, E|g|² = 1
      float[][] z = new float[g.length][n];
      for (float[] row : z) {
        for (int j = 0; j < n; j++) {
          row[j] = (float) (random.nextGaussian() / Math.sqrt(trace));
        }
      }
      g = Nd4j.createFromArray(z).mmul(Nd4j.createFromArray(centred)).castTo(DataType.FLOAT).toFloatMatrix();
    }
    float[][] targets = new float[g.length][d];
    for (int q = 0; q < g.length; q++) {
      int i = q % n;
      for (int k = 0; k < d; k++) {
        targets[q][k] = (float) (unit[i][k] + sigma * g[q][k]);
      }
    }
    return targets;
  }

  /** Rows minus their mean row. */
  static float[][] centred(float[][] rows) {
    int d = rows[0].length;
    double[] mean = new double[d];
    for (float[] r : rows) {
      for (int k = 0; k < d; k++) {
        mean[k] += r[k];
      }
    }
    float[][] out = new float[rows.length][d];
    for (int i = 0; i < rows.length; i++) {
      for (int k = 0; k < d; k++) {
        out[i][k] = (float) (rows[i][k] - mean[k] / rows.length);
      }
    }
    return out;
  }

  private static double cube(double c) {
    return c * c * c;
  }

  /** A table of the levels (Markdown). */
  public static String table(List<Level> levels) {
    StringBuilder s = new StringBuilder("| noise | nominal cos | σ | cos(target, truth) | SCS of the target | top-1 accuracy"
        + " | top-5 accuracy | SCS of the retrieved | SCS of the retrieved, truth not in the bank |\n"
        + "|---|---|---|---|---|---|---|---|---|\n");
    for (Level l : levels) {
      s.append(String.format(java.util.Locale.ROOT, "| %s | %.2f | %.3f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |%n",
          l.noise().name().toLowerCase(java.util.Locale.ROOT), l.nominalCosine(), l.sigma(), l.targetCosine(),
          l.targetScs(), l.accuracy(), l.accuracyTop5(), l.retrievedScs(), l.retrievedScsWithoutTruth()));
    }
    if (!levels.isEmpty()) {
      s.append(String.format(java.util.Locale.ROOT, "%nOracle without the truth (best other prompt): SCS %.4f%n",
          levels.get(0).oracleScsWithoutTruth()));
    }
    return s.toString();
  }
}
