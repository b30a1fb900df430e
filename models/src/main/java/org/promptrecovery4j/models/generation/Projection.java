package org.promptrecovery4j.models.generation;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.promptrecovery4j.models.nn.Linear;
import org.promptrecovery4j.models.nn.LinearAdapter;
import org.promptrecovery4j.models.nn.ModuleOutputs;

/**
 * One or more HF {@code nn.Linear} layers that read the same input (q/k/v, gate/up), run as ONE matrix
 * product on their concatenated weights with the outputs side by side: SameDiff's per-op cost is large,
 * so fewer, larger ops matter.
 *
 * <p>Each part keeps its HF name as a {@link Linear} descriptor (name, in, out features). An adapter
 * (LoRA) for a part adds its delta to that part's slice of the output; a part whose weight is trainable
 * is bound on its own (not fused), so training never needs a second copy of the architecture.
 */
public final class Projection {

  private final List<Linear> parts = new ArrayList<>();
  private final List<LinearAdapter> adapters = new ArrayList<>();
  private final List<SDVariable> weights = new ArrayList<>();
  private final SDVariable bias;
  private final DecoderWeights source;
  private final long inFeatures;
  private final long outFeatures;

  /**
   * Binds {@code prefixes} ({@code <prefix>.weight} [out, in], {@code <prefix>.bias} if {@code withBias})
   * as one projection; {@code fusedName} names the fused constant.
   */
  public static Projection load(DecoderWeights w, String fusedName, List<String> prefixes, boolean withBias) {
    return new Projection(w, fusedName, prefixes, withBias);
  }

  public static Projection load(DecoderWeights w, String prefix, boolean withBias) {
    return new Projection(w, prefix, List.of(prefix), withBias);
  }

  private Projection(DecoderWeights w, String fusedName, List<String> prefixes, boolean withBias) {
    long in = -1;
    long out = 0;
    boolean anyTrainable = false;
    List<String> weightNames = new ArrayList<>();
    for (String p : prefixes) {
      String name = p + ".weight";
      long[] shape = w.source().info(w.resolve(name)).shape();
      in = shape[1];
      out += shape[0];
      parts.add(new Linear(p, null, null, shape[1], shape[0]));
      adapters.add(w.options().adapters().apply(p));
      weightNames.add(name);
      anyTrainable |= w.options().trainable().test(name);
    }
    if (anyTrainable && prefixes.size() > 1) {
      for (String n : weightNames) {
        weights.add(w.matrix(n, List.of(n)));
      }
    } else {
      weights.add(w.matrix(fusedName + ".weight", weightNames));
    }
    this.bias = withBias ? w.vectors(fusedName + ".bias", prefixes.stream().map(p -> p + ".bias").toList()) : null;
    this.inFeatures = in;
    this.outFeatures = out;
    this.source = w;
  }

  public List<Linear> parts() {
    return parts;
  }

  public long inFeatures() {
    return inFeatures;
  }

  public long outFeatures() {
    return outFeatures;
  }

  /**
   * The weight as bound and its oneDNN-packed form where this is one plain frozen linear (one part, no bias, no adapter)
   * packed by {@link DecoderWeights#matrix}; null otherwise. A fused op may then take it in place of {@link #forward}.
   */
  public Packed packed() {
    if (parts.size() != 1 || weights.size() != 1 || bias != null || adapters.get(0) != null) {
      return null;
    }
    org.promptrecovery4j.models.nn.OneDnn.PackedWeight p = source.packed(weights.get(0));
    return p == null ? null : new Packed(weights.get(0), p);
  }

  /** A packed weight: the graph variable that holds it and its oneDNN form. */
  public record Packed(SDVariable variable, org.promptrecovery4j.models.nn.OneDnn.PackedWeight weight) {}

  /** {@code [N, in]} → {@code [N, sum(out)]}. */
  public SDVariable forward(SDVariable x2d) {
    SameDiff sd = x2d.getSameDiff();
    SDVariable y;
    if (weights.size() == 1) {
      y = source.product(x2d, weights.get(0));
    } else {
      SDVariable[] outs = new SDVariable[weights.size()];
      for (int i = 0; i < outs.length; i++) {
        outs[i] = source.product(x2d, weights.get(i));
      }
      y = sd.concat(1, outs);
    }
    if (bias != null) {
      y = y.add(bias);
    }
    if (adapters.stream().anyMatch(a -> a != null)) {
      SDVariable[] deltas = new SDVariable[parts.size()];
      long offset = 0;
      for (int i = 0; i < parts.size(); i++) {
        Linear part = parts.get(i);
        LinearAdapter a = adapters.get(i);
        deltas[i] = a != null ? a.delta(part, x2d) : slice(y, offset, part).mul(0.0);
        offset += part.outFeatures();
      }
      y = y.add(deltas.length == 1 ? deltas[0] : sd.concat(1, deltas));
    }
    return register(y);
  }

  /** Each part's slice of {@code y} as the output of its HF module (the slice and reshape join the graph when captured). */
  private SDVariable register(SDVariable y) {
    ModuleOutputs outputs = source.outputs();
    if (parts.size() == 1) {
      return outputs.putTokens(parts.get(0).name(), y);
    }
    long offset = 0;
    for (Linear part : parts) {
      outputs.putTokens(part.name(), y, offset, offset + part.outFeatures());
      offset += part.outFeatures();
    }
    return y;
  }

  private static SDVariable slice(SDVariable y, long offset, Linear part) {
    return y.get(SDIndex.all(), SDIndex.interval(Long.valueOf(offset), Long.valueOf(offset + part.outFeatures())));
  }
}
