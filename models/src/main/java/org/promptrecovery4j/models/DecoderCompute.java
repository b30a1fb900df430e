package org.promptrecovery4j.models;

import java.util.Locale;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;

/**
 * The one set of names of a causal LM's weight storage and compute mode ({@link WeightStorage}), as every option
 * and config key spells it ({@code generate}, {@code rewrite}, {@code bench-decoder} {@code --compute}; the
 * {@code compute} key of the {@code lora} and {@code few-shot} recoverers):
 * <ul>
 *   <li>{@code float32} ({@link WeightStorage#FLOAT32}, the default): every weight upcast to float32 at load;
 *   <li>{@code bf16} ({@link WeightStorage#BF16}): every matrix held in bf16 and multiplied by oneDNN's bf16 GEMM
 *       (the fast way to run a 7B model in 24 GiB);
 *   <li>{@code as-stored} ({@link WeightStorage#AS_STORED}): bf16/f16 matrices kept 2 bytes a value and upcast per
 *       use (half the memory of float32, slow). The old {@code --keep-dtype} / {@code keep_dtype: true}.
 * </ul>
 */
public final class DecoderCompute {

  /** The names, in the order errors list them. */
  public static final String NAMES = "float32, bf16, as-stored";

  private DecoderCompute() {}

  /** The name of a storage: {@code float32}, {@code bf16} or {@code as-stored}. */
  public static String name(WeightStorage s) {
    return switch (s) {
      case FLOAT32 -> "float32";
      case BF16 -> "bf16";
      case AS_STORED -> "as-stored";
    };
  }

  /**
   * The storage a name (any case, surrounding blanks ignored) stands for; anything else is an error naming
   * {@code what} (the option or config key the value came from), the value and the names.
   */
  public static WeightStorage parse(String value, String what) {
    String v = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
    for (WeightStorage s : WeightStorage.values()) {
      if (name(s).equals(v)) {
        return s;
      }
    }
    throw new IllegalArgumentException(what + " '" + value + "' is not one of " + NAMES);
  }
}
