package org.promptrecovery4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Something added to a {@link Linear} layer's output, such as a LoRA update {@code (x A) B * scale}.
 * The input is the layer's input flattened to {@code [N, inFeatures]}; the result must be
 * {@code [N, outFeatures]}.
 */
@FunctionalInterface
public interface LinearAdapter {
  SDVariable delta(Linear layer, SDVariable x2d);
}
