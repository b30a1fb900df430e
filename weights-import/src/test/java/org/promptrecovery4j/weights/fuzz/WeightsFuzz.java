package org.promptrecovery4j.weights.fuzz;

import java.nio.ByteOrder;
import org.promptrecovery4j.weights.DTypeConversions;
import org.promptrecovery4j.weights.TensorInfo;
import org.promptrecovery4j.weights.WeightSource;

/** What the weight harnesses do with a loaded checkpoint: read every small tensor's data, not only headers. */
final class WeightsFuzz {

  /** Tensors up to this many values are read (as float or as integers); larger ones only by their first bytes. */
  static final long READ_LIMIT = 1 << 16;

  private WeightsFuzz() {}

  static void readAll(WeightSource w) {
    w.parameterCount();
    for (String name : w.names()) {
      TensorInfo t = w.info(name);
      if (t.numel() <= READ_LIMIT) {
        if (t.dtype().isFloatingPoint()) {
          w.readFloats(name);
        } else {
          DTypeConversions.toLong(t.dtype(), w.bytes(name).order(ByteOrder.LITTLE_ENDIAN), t.numel());
        }
      } else if (t.byteLength() > 0) {
        w.bytes(name, 0, Math.min(t.byteLength(), 4096));
      }
    }
  }
}
