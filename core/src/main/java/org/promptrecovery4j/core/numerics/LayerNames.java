package org.promptrecovery4j.core.numerics;

import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The layer a HuggingFace module name belongs to: the number after the first {@code layers.},
 * {@code layer.}, {@code block.}, {@code blocks.} or {@code h.} segment, e.g. {@code model.layers.2.mlp} → 2
 * (Llama, Mistral, Gemma, Phi), {@code encoder.layer.11.attention.output} → 11 (BERT),
 * {@code deberta.encoder.layer.5} → 5, {@code encoder.block.3.layer.0} → 3 (T5: the block, not the
 * sub-layer), {@code transformer.h.7} → 7 (GPT-2); a tuple output {@code model.layers.2.self_attn[0]} → 2.
 * Names outside the layers ({@code model.embed_tokens}, {@code hidden_states[3]}, {@code logits}) have none.
 */
public final class LayerNames {

  private static final Pattern LAYER =
      Pattern.compile("(?:^|\\.)(?:layers|layer|blocks|block|h)\\.(\\d{1,9})(?=$|[.\\[])");

  private LayerNames() {}

  /** The layer number in {@code name}, or empty when it names no layer. */
  public static OptionalInt layerIndex(String name) {
    Matcher m = LAYER.matcher(name);
    return m.find() ? OptionalInt.of(Integer.parseInt(m.group(1))) : OptionalInt.empty();
  }
}
