package org.promptrecovery4j.models.generation;

import java.util.function.Function;
import java.util.function.Predicate;
import org.promptrecovery4j.models.nn.LinearAdapter;

/**
 * How a causal LM is built.
 *
 * @param storage whether weights are upcast to float32 at load or kept as stored (bf16/f16: 2 bytes a
 *     value, upcast per use inside the graph; slower, half the memory)
 * @param adapters an adapter (e.g. LoRA) for a linear layer by its HF name ({@code
 *     model.layers.0.self_attn.q_proj}), or null; the graph is built with them
 * @param trainable HF parameter names bound as trainable variables instead of constants
 * @param differentiable whether the graph will be differentiated (training): then every op is one of ND4J's (its
 *     gradient function is built by cloning the graph through FlatBuffers, which knows only ND4J's ops), and the
 *     ops computed in Java ({@link org.promptrecovery4j.models.nn.JvmOps}: oneDNN 3.3 attention products, packed
 *     bf16 and float32 products, block-copy concats) are left out. Set by {@link #withTrainable} and by trainable LoRA adapters.
 */
public record DecoderOptions(
    WeightStorage storage, Function<String, LinearAdapter> adapters, Predicate<String> trainable,
    boolean differentiable) {

  public enum WeightStorage {
    /** Every weight upcast to float32 at load: fastest compute. */
    FLOAT32,
    /** Matrices kept in their stored dtype (bf16 stays 2 bytes) and upcast per use in the graph. */
    AS_STORED,
    /**
     * Matrices held in bf16 (converted at load when stored otherwise) and multiplied in bf16 (oneDNN's
     * bf16 GEMM): each linear layer casts its input to bf16 and its output back to float32; norms,
     * softmax, rotary, residuals and the KV cache stay float32. No float32 copy of a matrix exists.
     */
    BF16
  }

  public static DecoderOptions defaults() {
    return new DecoderOptions(WeightStorage.FLOAT32, name -> null, name -> false, false);
  }

  public DecoderOptions withStorage(WeightStorage s) {
    return new DecoderOptions(s, adapters, trainable, differentiable);
  }

  public DecoderOptions withAdapters(Function<String, LinearAdapter> a) {
    return new DecoderOptions(storage, a, trainable, differentiable);
  }

  public DecoderOptions withTrainable(Predicate<String> t) {
    return new DecoderOptions(storage, adapters, t, true);
  }

  /** These options for a graph that will (or will not) be differentiated. */
  public DecoderOptions withDifferentiable(boolean d) {
    return new DecoderOptions(storage, adapters, trainable, d);
  }
}
