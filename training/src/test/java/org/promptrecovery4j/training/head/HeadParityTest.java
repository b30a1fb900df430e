package org.promptrecovery4j.training.head;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.promptrecovery4j.core.NpyReader;
import org.promptrecovery4j.training.HeadFixtures;
import org.promptrecovery4j.training.optim.AdamW;
import org.promptrecovery4j.training.optim.GradClipping;
import org.promptrecovery4j.weights.Checkpoints;
import org.promptrecovery4j.weights.WeightSource;

/**
 * The seed's head, 5 AdamW steps (betas 0.85/0.999, eps 1e-8, weight decay 0.005, gradient clipping) from the same
 * initial weights and batches as PyTorch: loss and gradient norm each step, then every tensor of the state dict and
 * the eval-mode predictions, for each loss.
 */
class HeadParityTest {

  static final double REL = 1e-4;

  @ParameterizedTest
  @EnumSource(HeadLoss.class)
  void fiveAdamWStepsMatchPyTorch(HeadLoss loss) throws Exception {
    Path dir = HeadFixtures.dir();
    JsonNode ex = HeadFixtures.expected();
    String key = loss.name().toLowerCase(Locale.ROOT);
    double lr = ex.get("lr").asDouble();
    int batch = ex.get("batch_size").asInt();
    INDArray x = Nd4j.createFromArray(NpyReader.readFloat32(dir.resolve("features.npy")));
    INDArray y = Nd4j.createFromArray(NpyReader.readFloat32(dir.resolve("targets.npy")));
    RegressionHead head = RegressionHead.load(dir.resolve("init.safetensors"), 0);
    AdamW opt = new AdamW(new AdamW.Settings(lr, ex.get("betas").get(0).asDouble(), ex.get("betas").get(1).asDouble(),
        ex.get("eps").asDouble(), ex.get("weight_decay").asDouble()));
    for (int i = 0; i < ex.get("steps").asInt(); i++) {
      INDArray xb = x.get(NDArrayIndex.interval(i * batch, (i + 1) * batch), NDArrayIndex.all()).dup();
      INDArray yb = y.get(NDArrayIndex.interval(i * batch, (i + 1) * batch), NDArrayIndex.all()).dup();
      RegressionHead.Step s = head.forwardBackward(xb, yb, loss, null);
      float norm = GradClipping.clipGradNorm(s.gradients().values(), ex.get("max_grad_norm").get(key).asDouble());
      opt.step(head.parameters(), s.gradients());
      double eLoss = ex.get("losses").get(key).get(i).asDouble();
      double eNorm = ex.get("grad_norms").get(key).get(i).asDouble();
      System.out.printf(Locale.ROOT, "%s step %d: loss %.8f (torch %.8f), grad norm %.6f (torch %.6f)%n",
          key, i + 1, s.loss(), eLoss, norm, eNorm);
      assertThat(Math.abs(s.loss() - eLoss)).as("loss at step %d", i + 1).isLessThanOrEqualTo(REL * Math.abs(eLoss));
      assertThat(Math.abs(norm - eNorm)).as("grad norm at step %d", i + 1).isLessThanOrEqualTo(REL * eNorm);
    }
    assertThat(head.numBatchesTracked()).isEqualTo(5);
    // head.0.bias: true gradient 0, Adam turns rounding noise into ±lr steps, so the two runs can drift apart by at
    // most about 2·lr a step (measured: up to 4.0 lr after 5 steps); the running mean it feeds by less (up to 0.94 lr)
    double slack = 2 * 5 * lr;
    try (WeightSource after = Checkpoints.open(dir.resolve("after_" + key + ".safetensors"))) {
      assertThat(after.load(RegressionHead.NUM_BATCHES_TRACKED).getLong(0)).isEqualTo(head.numBatchesTracked());
      for (String n : RegressionHead.PARAMETERS) {
        boolean noisy = n.equals(RegressionHead.B0);
        report(key, n, HeadFixtures.assertClose(key + " " + n, after.loadFloat(n), head.parameters().get(n),
            noisy ? 0 : REL, noisy ? slack : 1e-7));
      }
      report(key, "running_mean", HeadFixtures.assertClose(key + " running_mean",
          after.loadFloat(RegressionHead.RUNNING_MEAN), head.runningMean(), 0, slack));
      for (String n : new String[] {RegressionHead.B0, RegressionHead.RUNNING_MEAN}) {
        INDArray mine = n.equals(RegressionHead.B0) ? head.parameters().get(n) : head.runningMean();
        System.out.printf(Locale.ROOT, "%s %s: max |diff| = %.2f lr%n", key, n,
            after.loadFloat(n).sub(mine).amaxNumber().doubleValue() / lr);
      }
      report(key, "running_var", HeadFixtures.assertClose(key + " running_var",
          after.loadFloat(RegressionHead.RUNNING_VAR), head.runningVar(), REL, 1e-7));
    }
  }

  /**
   * Eval mode (running statistics) on PyTorch's own trained head: our trained head's running_mean carries the
   * head.0.bias noise, so the eval forward is checked on the tensors PyTorch ended with.
   */
  @ParameterizedTest
  @EnumSource(HeadLoss.class)
  void evalForwardOfTheTorchTrainedHeadMatchesPyTorch(HeadLoss loss) throws Exception {
    Path dir = HeadFixtures.dir();
    String key = loss.name().toLowerCase(Locale.ROOT);
    RegressionHead head = RegressionHead.load(dir.resolve("after_" + key + ".safetensors"), 0);
    INDArray x = Nd4j.createFromArray(NpyReader.readFloat32(dir.resolve("features.npy")));
    INDArray ePred = Nd4j.createFromArray(NpyReader.readFloat32(dir.resolve("pred_" + key + ".npy")));
    report(key, "eval predictions", HeadFixtures.assertClose(key + " eval predictions", ePred, head.predict(x), REL, 1e-7));
    // batch of one row = the same rows in one batch (eval BatchNorm has no batch statistics)
    INDArray one = head.predict(x.get(NDArrayIndex.interval(3, 4), NDArrayIndex.all()).dup());
    HeadFixtures.assertClose(key + " row 3 alone", ePred.get(NDArrayIndex.interval(3, 4), NDArrayIndex.all()), one, REL, 1e-7);
  }

  private static void report(String loss, String what, double rel) {
    System.out.printf(Locale.ROOT, "%s %s: max |diff| / max |torch| = %.2e%n", loss, what, rel);
  }
}
