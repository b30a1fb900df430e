package org.promptrecovery4j.weights;

import java.io.IOException;
import java.nio.file.Path;

/** A PyTorch {@code torch.save} state dict ({@code pytorch_model.bin}), read without executing pickle code. */
public final class TorchCheckpoint {

  private TorchCheckpoint() {}

  public static WeightSource open(Path file) throws IOException {
    throw new ModelFormatException(file + ": PyTorch .bin checkpoints are not supported yet");
  }
}
