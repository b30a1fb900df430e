package org.promptrecovery4j.training.lora;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.models.TokenInputs;
import org.promptrecovery4j.models.generation.CausalLM;

/**
 * HF's causal-LM loss on a {@link CausalLM} graph, for training: {@code labels} [B, L] are the ids to predict
 * (-100 = ignored), shifted inside as transformers does (position t predicts label t + 1), and the loss is the
 * mean cross-entropy over the labelled tokens. Gradients come from SameDiff's autodiff for the graph's trainable
 * variables (LoRA A and B; the base weights are constants).
 *
 * <p>The targets enter as one-hot rows ([B·L, vocab], zero rows for ignored positions) times the log-softmax:
 * SameDiff M2.1 has no gradient through {@code gather} (see the field notes), and its {@code LogSoftMax} op fails
 * when the gradient function is built ("Error setting property for function ...LogSoftMax"), so the log-softmax
 * is written out ({@code x − max − log Σ exp(x − max)}).
 */
public final class CausalLmLoss {

  /** transformers' ignore index. */
  public static final int IGNORE = -100;

  private static final String TARGETS = "lm_targets";
  private static final String COUNT = "lm_target_count";

  private final CausalLM model;
  private final SDVariable loss;

  public CausalLmLoss(CausalLM model) {
    this.model = model;
    SameDiff sd = model.graph();
    if (sd.hasVariable("lm_loss")) { // a second CausalLmLoss on the same graph shares the first one's ops
      this.loss = sd.getVariable("lm_loss");
      return;
    }
    int vocab = model.dims().vocabSize();
    SDVariable logits = sd.getVariable("logits").reshape(-1, vocab);
    SDVariable targets = sd.placeHolder(TARGETS, DataType.FLOAT, -1, vocab);
    SDVariable count = sd.placeHolder(COUNT, DataType.FLOAT);
    // log-softmax by hand: the LogSoftMax op of M2.1 cannot be cloned into the gradient function
    SDVariable shifted = logits.sub(logits.max(true, 1));
    SDVariable logp = shifted.sub(sd.math.log(sd.math.exp(shifted).sum(true, 1)));
    this.loss = logp.mul(targets).sum().neg().div(count).rename("lm_loss");
    sd.setLossVariables(loss);
  }

  /** The result of one pass: the loss and the gradient of each asked variable (same shapes). */
  public record Pass(double loss, Map<String, INDArray> gradients) {}

  /** Loss and gradients of {@code variables} on one batch. */
  public Pass lossAndGradients(INDArray inputIds, INDArray attentionMask, int[][] labels, Collection<String> variables) {
    return lossAndGradients(inputIds, attentionMask, labels, variables, Map.of());
  }

  /**
   * Loss and gradients of {@code variables} on one batch, from one forward and one backward pass; {@code extraFeed}
   * adds placeholders the graph has beside the model's inputs (e.g. {@link
   * org.promptrecovery4j.models.lora.LoraAdapter#dropoutFeed LoRA dropout masks}).
   */
  public Pass lossAndGradients(INDArray inputIds, INDArray attentionMask, int[][] labels, Collection<String> variables,
      Map<String, INDArray> extraFeed) {
    TokenInputs in = TokenInputs.check(inputIds, attentionMask, model.vocabulary());
    Map<String, INDArray> feed = new LinkedHashMap<>(model.fullSequenceFeed(in));
    targets(labels, in, feed);
    feed.putAll(extraFeed);
    SameDiff sd = model.graph();
    org.promptrecovery4j.training.GradFunctions.ensure(sd);
    OutAndGrad r = sd.calculateGradientsAndOutputs(feed, List.of(loss.name()), new ArrayList<>(variables));
    Map<String, INDArray> out = new LinkedHashMap<>();
    for (String v : variables) {
      out.put(v, r.getGradients().get(v));
    }
    return new Pass(r.getOutputs().get(loss.name()).getDouble(0), out);
  }

  /** The loss alone (a forward pass; e.g. held-out loss). */
  public double loss(INDArray inputIds, INDArray attentionMask, int[][] labels) {
    return loss(inputIds, attentionMask, labels, Map.of());
  }

  /** The loss alone, with extra placeholders as in {@link #lossAndGradients(INDArray, INDArray, int[][], Collection, Map)}. */
  public double loss(INDArray inputIds, INDArray attentionMask, int[][] labels, Map<String, INDArray> extraFeed) {
    TokenInputs in = TokenInputs.check(inputIds, attentionMask, model.vocabulary());
    Map<String, INDArray> feed = new LinkedHashMap<>(model.fullSequenceFeed(in));
    targets(labels, in, feed);
    feed.putAll(extraFeed);
    return model.graph().output(feed, loss.name()).get(loss.name()).getDouble(0);
  }

  /** Adds the one-hot targets and their count to {@code feed}; returns the count. */
  private int targets(int[][] labels, TokenInputs in, Map<String, INDArray> feed) {
    int b = in.batch();
    int l = in.length();
    int vocab = model.dims().vocabSize();
    if (labels.length != b) {
      throw new IllegalArgumentException("labels have " + labels.length + " rows, input_ids " + b);
    }
    float[] onehot = new float[Math.multiplyExact(Math.multiplyExact(b, l), vocab)];
    int count = 0;
    for (int i = 0; i < b; i++) {
      if (labels[i].length != l) {
        throw new IllegalArgumentException("labels row " + i + " has " + labels[i].length + " ids, input_ids " + l);
      }
      for (int t = 0; t + 1 < l; t++) {
        int y = labels[i][t + 1];
        if (y == IGNORE) {
          continue;
        }
        if (y < 0 || y >= vocab) {
          throw new IllegalArgumentException("label " + y + " at row " + i + ", position " + (t + 1)
              + " is outside the vocabulary [0, " + vocab + ") (use -100 to ignore a position)");
        }
        onehot[(i * l + t) * vocab + y] = 1f;
        count++;
      }
    }
    if (count == 0) {
      throw new IllegalArgumentException("no labelled token in the batch (every label is -100)");
    }
    feed.put(TARGETS, Nd4j.create(onehot, new long[] {(long) b * l, vocab}, 'c'));
    feed.put(COUNT, Nd4j.scalar((float) count));
    return count;
  }
}
