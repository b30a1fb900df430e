package org.promptrecovery4j.evaluation;

/**
 * The competition's similarity: the cosine of two embeddings raised to an exponent (3 on Kaggle),
 * {@code sign(c)·|c|^p}, which is {@code c³} for the Kaggle exponent and keeps every exponent defined
 * for negative cosines (which sentence-t5 embeddings of English prompts practically never give).
 */
public final class SharpenedCosine {

  private SharpenedCosine() {}

  /** Cosine similarity in double precision; 0 if either vector is all zeros. */
  public static double cosine(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("embeddings of different sizes: " + a.length + " and " + b.length);
    }
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
  }

  public static double sharpen(double cosine, double exponent) {
    return Math.signum(cosine) * Math.pow(Math.abs(cosine), exponent);
  }

  public static double score(float[] predicted, float[] truth, double exponent) {
    return sharpen(cosine(predicted, truth), exponent);
  }
}
