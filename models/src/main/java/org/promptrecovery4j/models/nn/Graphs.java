package org.promptrecovery4j.models.nn;

import java.util.Map;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.array.SingleThreadArrayHolder;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.memory.ArrayCacheMemoryMgr;
import org.nd4j.linalg.api.ndarray.INDArray;

/** New SameDiff graphs with the project's settings. */
public final class Graphs {

  /**
   * Bytes of freed intermediate arrays a graph's session keeps for reuse ({@code -Dpr4j.arrayCacheBytes}, default
   * 1 GiB). SameDiff sizes its default cache as a quarter of JavaCPP's {@code maxbytes}, which jvm.options sets to 0
   * (no limit, needed for multi-GB weights): that means NO cache, every intermediate array freshly allocated, and
   * encoder passes ran 2x slower (measured: all-MiniLM-L6-v2 at 32 x 256, 4.6-5.8 s against 2.4-2.7 s).
   */
  public static final long ARRAY_CACHE_BYTES = Long.getLong("pr4j.arrayCacheBytes", 1L << 30);

  private Graphs() {}

  /** {@code sd.output(feed, outputs)} in this thread's session with an array cache of {@link #ARRAY_CACHE_BYTES}. */
  public static Map<String, INDArray> output(SameDiff sd, Map<String, INDArray> feed, String... outputs) {
    useArrayCache(sd, ARRAY_CACHE_BYTES);
    return sd.output(feed, outputs);
  }

  /** {@link #output} of {@code names}, as a list in their order. */
  public static java.util.List<INDArray> outputList(SameDiff sd, Map<String, INDArray> feed, java.util.List<String> names) {
    Map<String, INDArray> out = output(sd, feed, names.toArray(new String[0]));
    java.util.List<INDArray> list = new java.util.ArrayList<>(names.size());
    for (String n : names) {
      list.add(out.get(n));
    }
    return list;
  }

  /** Gives this thread's inference session of {@code sd} an array cache of {@code bytes} (0 = none), once. */
  public static void useArrayCache(SameDiff sd, long bytes) {
    sd.getSessions().computeIfAbsent(Thread.currentThread().getId(), id -> {
      InferenceSession s = new InferenceSession(sd);
      if (Boolean.getBoolean("pr4j.nd4jArrayCache")) {
        ArrayCacheMemoryMgr mmgr = new ArrayCacheMemoryMgr();
        mmgr.setMaxCacheBytes(bytes);
        s.setMmgr(mmgr);
      } else {
        s.setMmgr(new ArrayPool(bytes));
      }
      return s;
    });
  }

  /**
   * A new graph whose constants are held once: the default array holder keeps a lazy second copy of
   * every constant, doubling weight memory (measured: 3 GB of weights → 6.2 GB RSS).
   */
  public static SameDiff newGraph() {
    SameDiff sd = SameDiff.create();
    sd.setArrayHolders(new SingleThreadArrayHolder(), new SingleThreadArrayHolder(), false);
    return sd;
  }
}
