package org.promptrecovery4j.cli;

import org.promptrecovery4j.models.DecoderCompute;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;
import picocli.CommandLine.Option;

/**
 * {@code --compute float32|bf16|as-stored} ({@link DecoderCompute}) of the commands that load a causal LM to
 * generate, with {@code --keep-dtype}, the old spelling of {@code --compute as-stored}.
 */
final class DecoderComputeOption {

  @Option(names = "--compute", paramLabel = "float32|bf16|as-stored", description = "how the weights are held and"
      + " multiplied: float32 (upcast at load; the default), bf16 (every matrix bf16, bf16 GEMMs: the fast way to run"
      + " a 7B model in 24 GiB) or as-stored (bf16 kept 2 bytes a value, upcast per use: slow)")
  String compute;

  @Option(names = "--keep-dtype", description = "the old spelling of --compute as-stored")
  boolean keepDtype;

  /** The storage asked for (float32 when neither option is given); --keep-dtype with another --compute is an error. */
  WeightStorage storage() {
    WeightStorage c = compute == null ? null : DecoderCompute.parse(compute, "--compute");
    if (!keepDtype) {
      return c != null ? c : WeightStorage.FLOAT32;
    }
    if (c != null && c != WeightStorage.AS_STORED) {
      throw new IllegalArgumentException("--keep-dtype (the old spelling of --compute as-stored) conflicts with"
          + " --compute " + DecoderCompute.name(c) + ": give only --compute");
    }
    return WeightStorage.AS_STORED;
  }
}
