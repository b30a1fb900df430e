package org.promptrecovery4j.training.head;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.deberta.DebertaV2Model;

/**
 * The seed's {@code CustomModel} trained end to end through DeBERTa: one SameDiff graph of the encoder, the
 * seed's features, the {@link RegressionHead} in training mode and a {@link HeadLoss}, differentiated by SameDiff's
 * autodiff for the head and for every weight the {@link DebertaV2Model} was built with as trainable (e.g.
 * {@link DebertaV2Model#topLayers}):
 *
 * <pre>
 *   hs    = deberta(concat(originals, rewritten))               # ONE pass over a batch of 2B texts
 *   feats = [mean(hs[-1])[:B], mean(hs[-2])[:B], mean(hs[-1])[B:], mean(hs[-2])[B:]]    # [B, 4 x hidden]
 *   loss  = loss_fn(head(feats), targets)
 * </pre>
 *
 * where {@code mean} is the attention-masked mean over tokens. The seed runs the original and the rewritten texts
 * as two passes, each padded to its own longest text; here both are one batch padded to the longest of all, which
 * gives the same values (padded keys are masked, padded tokens are left out of the means) from one graph.
 *
 * <p>Only the layers from the first trainable one up ({@link DebertaV2Model#trainableTop()}, at least the top layer)
 * run in the differentiated pass; the frozen layers below run first as an inference pass, whose
 * {@code hidden_states[from]} feeds the trainable part, so that their activations are not kept for the backward
 * pass. The graph is the model's own ({@link DebertaV2Model#graph()}), extended once; the model must not be used for
 * inference at the same time. The trainable arrays ({@link #parameters()}: DeBERTa variables under their
 * checkpoint names, linear weights {@code [in, out]}, then the head's) are the graph's own, so an optimiser such as
 * {@link org.promptrecovery4j.training.optim.AdamW} updates them in place. Head dropout is not supported here.
 */
public final class DebertaRegressor {

  /** The loss of one batch and the gradient of every trainable parameter (same names and layouts). */
  public record Step(float loss, Map<String, INDArray> gradients) {}

  private final DebertaV2Model deberta;
  private final RegressionHead head;
  private final SameDiff sd;
  private final Map<String, INDArray> parameters = new LinkedHashMap<>();
  private DebertaV2Model.TrainableTop top;

  private DebertaRegressor(DebertaV2Model deberta, RegressionHead head, HeadLoss loss) {
    this.deberta = deberta;
    this.head = head;
    this.sd = deberta.graph();
    build(loss);
  }

  /** Extends {@code deberta}'s graph with the features, {@code head} and {@code loss}. */
  public static DebertaRegressor create(DebertaV2Model deberta, RegressionHead head, HeadLoss loss) {
    int width = 4 * deberta.config().hiddenSize();
    if (head.config().in() != width) {
      throw new IllegalArgumentException("the head takes " + head.config().in() + " features, DeBERTa's are 4 x "
          + deberta.config().hiddenSize() + " = " + width);
    }
    if (head.config().dropout() > 0) {
      throw new IllegalArgumentException("head dropout is not supported when training through DeBERTa");
    }
    return new DebertaRegressor(deberta, head, loss);
  }

  /** The trainable arrays by name: DeBERTa's variables, then the head's parameters (live, updated in place). */
  public Map<String, INDArray> parameters() {
    return parameters;
  }

  public RegressionHead head() {
    return head;
  }

  private void build(HeadLoss loss) {
    top = deberta.trainableTop();
    List<String> states = top.hiddenStates();
    SDVariable mask = sd.getVariable(DebertaV2Model.attentionMaskName());
    SDVariable last = maskedMean(sd.getVariable(states.get(states.size() - 1)), mask);
    SDVariable second = maskedMean(sd.getVariable(states.get(states.size() - 2)), mask);
    SDVariable features = seedFeatures(last, second, deberta.config().hiddenSize());
    SDVariable y = sd.placeHolder("targets", DataType.FLOAT, -1, head.config().out());
    Map<String, SDVariable> p = new LinkedHashMap<>();
    for (String n : RegressionHead.PARAMETERS) {
      p.put(n, sd.var(n, head.parameters().get(n)));
    }
    SDVariable pred = RegressionHead.trainingForward(sd, features, p);
    sd.setLossVariables(loss.build(sd, pred, y).rename("loss"));
    org.promptrecovery4j.training.GradFunctions.ensure(sd);
    for (String n : deberta.trainableNames()) {
      parameters.put(n, sd.getArrForVarName(n));
    }
    for (String n : RegressionHead.PARAMETERS) {
      INDArray a = sd.getArrForVarName(n);
      head.parameters().put(n, a);
      parameters.put(n, a);
    }
  }

  /** {@code (h * mask).sum(1) / clamp(mask.sum(1), min=1e-9)}: [2B, L, H] → [2B, H]. */
  private SDVariable maskedMean(SDVariable h, SDVariable mask) {
    SDVariable summed = h.mul(sd.expandDims(mask, 2)).sum(1);
    SDVariable count = sd.math.max(mask.sum(true, 1), sd.constant(Nd4j.scalar(1e-9f)));
    return summed.div(count);
  }

  /** Rows [originals; rewritten] of both means → [B, 4H] = [o_last, o_second, r_last, r_second]. */
  private static SDVariable seedFeatures(SDVariable last, SDVariable second, int hidden) {
    SameDiff sd = last.getSameDiff();
    SDVariable perText = sd.concat(1, last, second); // [2B, 2H]
    return perText.reshape(2, -1, 2L * hidden).permute(1, 0, 2).reshape(-1, 4L * hidden);
  }

  /**
   * A training-mode forward and backward pass on one batch of (original, rewritten) token ids ({@code [CLS] …
   * [SEP]}, unpadded) against {@code targets} [B, out]; updates the head's BatchNorm running statistics as PyTorch's
   * forward does. At least 2 rows (BatchNorm).
   */
  public Step forwardBackward(List<int[]> originals, List<int[]> rewritten, INDArray targets) {
    int b = originals.size();
    if (b < 2 || rewritten.size() != b || targets.rank() != 2 || targets.size(0) != b) {
      throw new IllegalArgumentException("a batch needs at least 2 rows and as many originals (" + b
          + "), rewritten texts (" + rewritten.size() + ") and target rows (" + Arrays.toString(targets.shape()) + ")");
    }
    List<int[]> texts = new ArrayList<>(originals);
    texts.addAll(rewritten);
    INDArray[] idsAndMask = pad(texts, deberta.config().padTokenId());
    Map<String, INDArray> feed = new LinkedHashMap<>(deberta.inputs(idsAndMask[0], idsAndMask[1]));
    feed.put(top.input(), deberta.hiddenState(top.from(), feed).dup());
    feed.put("targets", targets.castTo(DataType.FLOAT));
    OutAndGrad r = sd.calculateGradientsAndOutputs(feed, List.of("loss", "batch_mean", "batch_var"),
        new ArrayList<>(parameters.keySet()));
    head.updateRunningStats(r.getOutputs().get("batch_mean"), r.getOutputs().get("batch_var"), b);
    Map<String, INDArray> grads = new LinkedHashMap<>();
    for (String n : parameters.keySet()) {
      grads.put(n, r.getGradients().get(n));
    }
    return new Step(r.getOutputs().get("loss").getFloat(0), grads);
  }

  /** Right-padded ids and the float mask of {@code texts}, padded to the longest. */
  static INDArray[] pad(List<int[]> texts, int padId) {
    int length = texts.stream().mapToInt(t -> t.length).max().orElse(0);
    int[][] ids = new int[texts.size()][length];
    float[][] mask = new float[texts.size()][length];
    for (int i = 0; i < ids.length; i++) {
      int[] t = texts.get(i);
      Arrays.fill(ids[i], padId);
      System.arraycopy(t, 0, ids[i], 0, t.length);
      Arrays.fill(mask[i], 0, t.length, 1f);
    }
    return new INDArray[] {Nd4j.createFromArray(ids), Nd4j.createFromArray(mask)};
  }
}
