package org.promptrecovery4j.training;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.promptrecovery4j.models.nn.Graphs;

/**
 * Keeps a training loop's native memory flat. The arrays a SameDiff gradient pass leaves behind (outputs,
 * intermediate and gradient arrays not closed by their users) are freed only when their Java wrappers are
 * collected, and a large heap rarely collects; and the graph's sessions hold every array of the last call until the
 * next call replaces them, so without help each step allocates its arrays beside the last step's.
 */
public final class MemoryGuard {

  private long baselineBytes = -1;

  /**
   * A GC when the process's physical memory has grown by more than a quarter (at least 1 GiB) since the first call.
   * Call once per step, after closing what the step no longer needs (measured, LoRA on phi-2 shapes, 4 layers, 256
   * tokens: RSS 12 to 20 GiB after 6 steps without it).
   */
  public void collectIfGrown() {
    long now = org.bytedeco.javacpp.Pointer.physicalBytes();
    if (baselineBytes < 0) {
      baselineBytes = now;
    } else if (now > baselineBytes + Math.max(1L << 30, baselineBytes / 4)) {
      System.gc();
    }
  }

  /**
   * Frees at once what the last call of {@code sd} (and of its gradient function) left: drops the graph's sessions,
   * which hold every array of that call, and collects. One GC a step, for steps of seconds (measured through
   * DeBERTa-v3-base shapes, top 2 layers, 8 texts of 128 tokens, the whole graph differentiated: 8.9 GiB after the
   * first step, then stopped at 12.3 GiB in the second without this, a GC alone freeing nothing; 8.5-8.9 GiB over 6
   * steps with it).
   */
  public static void releaseSessions(SameDiff sd) {
    sd.getSessions().clear();
    Graphs.useArrayCache(sd, Graphs.ARRAY_CACHE_BYTES); // the project's inference session, made anew
    SameDiff grad = sd.getFunction("grad");
    if (grad != null) {
      // the session SameDiff would make, made here: SameDiff logs an INFO line each time it makes one itself
      grad.getSessions().clear();
      grad.getSessions().put(Thread.currentThread().getId(), new InferenceSession(grad));
    }
    System.gc();
  }
}
