package org.promptrecovery4j.models.nn;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.matmul;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;

/**
 * bf16 matrix products through oneDNN 3.3 (the JavaCPP presets) on weights packed once at load, the fast path of
 * {@link PackedLinearOp}.
 *
 * <p>ND4J M2.1's natives link an older oneDNN whose bf16 GEMM reads the weight in its plain layout at every call;
 * oneDNN 3.3's brgemm kernels ({@code brg:avx512_core_bf16}) multiply a weight reordered once into their blocked
 * layout, about twice as fast at 16 rows (a decode step at batch 16; docs/performance.md). {@link #pack} does that
 * reorder at load; {@link #multiply} then computes {@code y = bf16(bf16(x) W)} as float32, the same rounding as
 * PyTorch's bf16 {@code nn.Linear} and as the ND4J path: x is rounded to bf16, products accumulate in float32, the
 * result is rounded to bf16 and widened back to float32.
 *
 * <p>{@link #available()}: the CPU backend, oneDNN 3.3's natives loaded, this CPU's bf16 instructions used by the
 * kernel oneDNN picks (not its reference code), and {@code -Dpr4j.onednn3} not {@code false}. Otherwise the models
 * keep ND4J's path.
 */
public final class OneDnn {

  /** {@code -Dpr4j.onednn3=false} keeps every product on ND4J's natives. */
  public static final String PROPERTY = "pr4j.onednn3";

  /** Plans (primitives for one row count) kept per thread; decode steps reuse a few, prefills add one per length. */
  private static final int PLANS_PER_THREAD = 32;

  private static volatile Boolean usable;
  private static boolean bf16;
  private static boolean float32;
  private static String unusableReason = "";
  private static engine cpu;

  private static final ThreadLocal<Worker> WORKER = ThreadLocal.withInitial(Worker::new);

  private OneDnn() {}

  /**
   * A {@code [K, N]} bf16 or float32 weight in oneDNN's blocked layout for its matmul; {@code array} holds the bytes (a
   * 1-D array of the weight's type, owned by the graph that binds it), {@code memory} wraps them.
   */
  public record PackedWeight(INDArray array, long k, long n, memory.desc desc, memory memory) {

    /** Whether the weight is bf16 (the product rounds as a bf16 linear) rather than float32. */
    public boolean bf16() {
      return array.dataType() == DataType.BFLOAT16;
    }
  }

  /** Whether the bf16 fast path is on: see the class comment. */
  public static boolean available() {
    return loaded() && bf16;
  }

  /** Whether oneDNN 3.3 runs here at all (the CPU backend, its natives loaded, the property not false): {@link #matmul}. */
  public static boolean loaded() {
    if (!Boolean.parseBoolean(System.getProperty(PROPERTY, "true").trim())) {
      return false;
    }
    Boolean u = usable;
    if (u == null) {
      synchronized (OneDnn.class) {
        if (usable == null) {
          usable = probe();
        }
        u = usable;
      }
    }
    return u;
  }

  /** Why {@link #available()} is false when the property allows it (for logs and benchmarks); "" when usable. */
  public static String unusableReason() {
    loaded();
    return unusableReason;
  }

  /** Whether {@link JvmOps} runs ops computed in Java here (ND4J's CPU backend; decided with {@link #loaded()}). */
  static boolean javaOpsInstalled() {
    if (!Boolean.parseBoolean(System.getProperty(PROPERTY, "true").trim())) {
      return false;
    }
    try {
      return JvmOps.install();
    } catch (ReflectiveOperationException e) {
      return false;
    }
  }

  private static void requireLoaded() {
    if (!loaded()) {
      throw new IllegalStateException("oneDNN 3.3 is not usable here: " + (unusableReason.isEmpty()
          ? "-D" + PROPERTY + "=false" : unusableReason));
    }
  }

  private static boolean probe() {
    try {
      if (!JvmOps.install()) {
        unusableReason = "not the ND4J CPU backend (" + Nd4j.getExecutioner().getClass().getSimpleName() + ")";
        return false;
      }
      cpu = new engine(engine.kind.cpu, 0);
      try (matmul.primitive_desc pd = matmulDesc(16, 256, 256, memory.data_type.bf16)) {
        String impl = pd.impl_info_str().getString();
        bf16 = impl.contains("bf16") || impl.contains("amx");
        if (!bf16) {
          unusableReason = "oneDNN's bf16 matmul here is " + impl + " (no bf16 instructions on this CPU)";
        }
      }
      try (matmul.primitive_desc pd = matmulDesc(16, 256, 256, memory.data_type.f32)) {
        float32 = !pd.impl_info_str().getString().startsWith("ref");
      }
      return true;
    } catch (Throwable t) {
      unusableReason = "oneDNN 3.3 did not load: " + t;
      return false;
    }
  }

  private static memory.desc desc(long rows, long cols, memory.data_type type, memory.format_tag tag) {
    return new memory.desc(new LongPointer(rows, cols), type, tag);
  }

  private static matmul.primitive_desc matmulDesc(long m, long k, long n, memory.data_type type) {
    return new matmul.primitive_desc(cpu, desc(m, k, type, memory.format_tag.ab),
        desc(k, n, type, memory.format_tag.any), desc(m, n, type, memory.format_tag.ab));
  }

  /**
   * Whether float32 linear weights of inference graphs are packed too ({@code -Dpr4j.onednn3.float32}, default true):
   * {@link #loaded()}, oneDNN's float32 matmul here not its reference code, and the property. A one-row product reads
   * the packed weight 1.4–2.0× faster than ND4J's oneDNN reads the plain one (docs/performance.md).
   */
  public static boolean packsFloat32() {
    return loaded() && float32 && Boolean.parseBoolean(System.getProperty(PROPERTY + ".float32", "true").trim());
  }

  /**
   * {@code w} ({@code [K, N]}, bf16 or float32, row-major: an {@code nn.Linear} weight held {@code [in, out]})
   * reordered into the matmul's blocked layout, in a new array of its type (the caller closes {@code w} if it no
   * longer needs it).
   */
  public static PackedWeight pack(INDArray w) {
    requireLoaded();
    if (w.rank() != 2 || (w.dataType() != DataType.BFLOAT16 && w.dataType() != DataType.FLOAT)) {
      throw new IllegalArgumentException("oneDNN packing needs a rank-2 bf16 or float32 weight, got " + w.dataType()
          + " " + java.util.Arrays.toString(w.shape()));
    }
    INDArray plain = contiguous(w);
    long k = w.size(0);
    long n = w.size(1);
    memory.data_type type = type(w.dataType());
    try (matmul.primitive_desc pd = matmulDesc(1, k, n, type)) {
      memory.desc packedDesc = pd.weights_desc();
      long width = w.dataType().width();
      INDArray packed = Nd4j.createUninitialized(w.dataType(), packedDesc.get_size() / width);
      memory to = new memory(packedDesc, cpu, packed.data().addressPointer());
      try (memory.desc plainDesc = desc(k, n, type, memory.format_tag.ab);
          memory from = new memory(plainDesc, cpu, plain.data().addressPointer());
          stream s = new stream(cpu);
          reorder r = new reorder(from, to);
          IntMemoryMap args = new IntMemoryMap()) {
        args.put(DNNL_ARG_FROM, from).put(DNNL_ARG_TO, to);
        r.execute(s, args);
        s._wait();
      } finally {
        if (plain != w) {
          plain.close();
        }
      }
      return new PackedWeight(packed, k, n, packedDesc, to);
    }
  }

  private static memory.data_type type(DataType t) {
    return t == DataType.BFLOAT16 ? memory.data_type.bf16 : memory.data_type.f32;
  }

  /**
   * {@code out [M, N] = x W} for {@code x [M, K]}, both float32: {@code bf16(bf16(x) W)} for a bf16 weight, a float32
   * product for a float32 one.
   */
  public static void multiply(INDArray x, PackedWeight w, INDArray out) {
    requireLoaded();
    if (x.rank() != 2 || x.size(1) != w.k() || out.rank() != 2 || out.size(0) != x.size(0) || out.size(1) != w.n()
        || x.dataType() != DataType.FLOAT || out.dataType() != DataType.FLOAT) {
      throw new IllegalArgumentException("packed " + (w.bf16() ? "bf16" : "float32") + " product: x " + x.dataType() + java.util.Arrays.toString(x.shape())
          + " and out " + out.dataType() + java.util.Arrays.toString(out.shape()) + " do not fit a [" + w.k() + ", "
          + w.n() + "] weight");
    }
    if (x.size(0) == 0) {
      return; // nothing to compute (oneDNN is never handed an empty tensor)
    }
    INDArray in = contiguous(x);
    boolean direct = isPlain(out);
    INDArray target = direct ? out : Nd4j.createUninitialized(DataType.FLOAT, out.shape(), 'c');
    try {
      WORKER.get().run(in, w, target);
      if (!direct) {
        out.assign(target);
      }
    } finally {
      if (in != x) {
        in.close();
      }
      if (!direct) {
        target.close();
      }
    }
  }

  /**
   * {@code out = a b} (or {@code a bᵀ}) over the last two axes, the leading axes batched: float32 {@code a [..., M, K]},
   * {@code b [..., K, N]} ({@code [..., N, K]} if {@code transposeB}), {@code out [..., M, N]}, all of one rank with the
   * same leading sizes. One oneDNN call for the whole batch (ND4J's batched mmul makes one BLAS call per matrix).
   */
  public static void matmul(INDArray a, INDArray b, boolean transposeB, INDArray out) {
    requireLoaded();
    int r = a.rank();
    boolean fits = r >= 2 && b.rank() == r && out.rank() == r && a.dataType() == DataType.FLOAT
        && b.dataType() == DataType.FLOAT && out.dataType() == DataType.FLOAT;
    long m = a.size(r - 2);
    long k = a.size(r - 1);
    long n = fits ? b.size(transposeB ? r - 2 : r - 1) : -1;
    fits &= fits && b.size(transposeB ? r - 1 : r - 2) == k && out.size(r - 2) == m && out.size(r - 1) == n;
    for (int i = 0; fits && i < r - 2; i++) {
      fits = b.size(i) == a.size(i) && out.size(i) == a.size(i);
    }
    if (!fits) {
      throw new IllegalArgumentException("batched matmul: a " + a.dataType() + java.util.Arrays.toString(a.shape())
          + ", b " + b.dataType() + java.util.Arrays.toString(b.shape()) + (transposeB ? " (transposed)" : "")
          + " and out " + out.dataType() + java.util.Arrays.toString(out.shape()) + " do not fit");
    }
    if (out.length() == 0) {
      return;
    }
    if (k == 0) {
      out.assign(0); // an empty sum
      return;
    }
    INDArray x = contiguous(a);
    INDArray y = contiguous(b);
    boolean direct = isPlain(out);
    INDArray target = direct ? out : Nd4j.createUninitialized(DataType.FLOAT, out.shape(), 'c');
    try {
      WORKER.get().matmul(x, y, transposeB, target);
      if (!direct) {
        out.assign(target);
      }
    } finally {
      if (x != a) {
        x.close();
      }
      if (y != b) {
        y.close();
      }
      if (!direct) {
        target.close();
      }
    }
  }

  /** The descriptor of c-order {@code shape} read as its last two axes swapped when {@code swapLast}. */
  private static memory.desc strided(long[] shape, boolean swapLast) {
    int r = shape.length;
    long[] strides = new long[r];
    long s = 1;
    for (int i = r - 1; i >= 0; i--) {
      strides[i] = s;
      s *= shape[i];
    }
    long[] dims = shape.clone();
    if (swapLast) {
      dims[r - 2] = shape[r - 1];
      dims[r - 1] = shape[r - 2];
      long t = strides[r - 2];
      strides[r - 2] = strides[r - 1];
      strides[r - 1] = t;
    }
    return new memory.desc(new LongPointer(dims), memory.data_type.f32, new LongPointer(strides));
  }

  private static boolean isPlain(INDArray a) {
    return !a.isView() && a.ordering() == 'c' && a.offset() == 0;
  }

  private static INDArray contiguous(INDArray a) {
    return isPlain(a) ? a : a.dup('c');
  }

  /** One thread's stream, bf16 scratch buffers and plans (primitives for one {@code [M, K, N]}). */
  private static final class Worker {
    private final stream stream = new stream(cpu);
    private final Map<String, Plan> plans = lru();
    private final Map<String, MatmulPlan> matmuls = lru();

    /** The most recently used {@link #PLANS_PER_THREAD} plans; an evicted one frees its primitives. */
    private static <P extends AutoCloseable> Map<String, P> lru() {
      return new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, P> eldest) {
          if (size() <= PLANS_PER_THREAD) {
            return false;
          }
          try {
            eldest.getValue().close();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
          return true;
        }
      };
    }
    private BytePointer srcScratch = new BytePointer(0L);
    private BytePointer dstScratch = new BytePointer(0L);

    void run(INDArray x, PackedWeight w, INDArray out) {
      long m = x.size(0);
      Plan p = plans.computeIfAbsent(m + "x" + w.k() + "x" + w.n() + (w.bf16() ? "bf16" : "f32"),
          key -> new Plan(m, w.k(), w.n(), w.desc(), w.bf16()));
      p.srcF32.set_data_handle(x.data().addressPointer());
      p.dstF32.set_data_handle(out.data().addressPointer());
      if (!w.bf16()) { // the product alone
        try (IntMemoryMap product = new IntMemoryMap()) {
          p.matmul.execute(stream, product.put(DNNL_ARG_SRC, p.srcF32).put(DNNL_ARG_WEIGHTS, w.memory())
              .put(DNNL_ARG_DST, p.dstF32));
          stream._wait();
        }
        return;
      }
      srcScratch = atLeast(srcScratch, m * w.k() * 2);
      dstScratch = atLeast(dstScratch, m * w.n() * 2);
      p.srcBf16.set_data_handle(srcScratch);
      p.dstBf16.set_data_handle(dstScratch);
      try (IntMemoryMap toBf16 = new IntMemoryMap();
          IntMemoryMap product = new IntMemoryMap();
          IntMemoryMap toF32 = new IntMemoryMap()) {
        p.toBf16.execute(stream, toBf16.put(DNNL_ARG_FROM, p.srcF32).put(DNNL_ARG_TO, p.srcBf16));
        p.matmul.execute(stream, product.put(DNNL_ARG_SRC, p.srcBf16).put(DNNL_ARG_WEIGHTS, w.memory())
            .put(DNNL_ARG_DST, p.dstBf16));
        p.toF32.execute(stream, toF32.put(DNNL_ARG_FROM, p.dstBf16).put(DNNL_ARG_TO, p.dstF32));
        stream._wait();
      }
    }

    void matmul(INDArray a, INDArray b, boolean transposeB, INDArray out) {
      String key = java.util.Arrays.toString(a.shape()) + java.util.Arrays.toString(b.shape()) + transposeB;
      MatmulPlan p = matmuls.computeIfAbsent(key, x -> new MatmulPlan(a.shape(), b.shape(), transposeB, out.shape()));
      p.a.set_data_handle(a.data().addressPointer());
      p.b.set_data_handle(b.data().addressPointer());
      p.out.set_data_handle(out.data().addressPointer());
      try (IntMemoryMap args = new IntMemoryMap()) {
        p.matmul.execute(stream, args.put(DNNL_ARG_SRC, p.a).put(DNNL_ARG_WEIGHTS, p.b).put(DNNL_ARG_DST, p.out));
        stream._wait();
      }
    }

    private static BytePointer atLeast(BytePointer p, long bytes) {
      if (p.capacity() >= bytes) {
        return p;
      }
      p.close();
      BytePointer q = new BytePointer(Math.max(bytes, p.capacity() * 3 / 2));
      if (q.isNull()) {
        throw new OutOfMemoryError("oneDNN scratch of " + bytes + " bytes could not be allocated");
      }
      return q;
    }
  }

  /** A float32 batched matmul of one set of shapes. */
  private static final class MatmulPlan implements AutoCloseable {
    final memory a;
    final memory b;
    final memory out;
    final matmul matmul;

    MatmulPlan(long[] aShape, long[] bShape, boolean transposeB, long[] outShape) {
      Pointer none = new Pointer();
      a = new memory(strided(aShape, false), cpu, none);
      b = new memory(strided(bShape, transposeB), cpu, none);
      out = new memory(strided(outShape, false), cpu, none);
      try (matmul.primitive_desc pd = new matmul.primitive_desc(cpu, a.get_desc(), b.get_desc(), out.get_desc())) {
        matmul = new matmul(pd);
      }
    }

    @Override
    public void close() {
      for (Pointer p : new Pointer[] {matmul, a, b, out}) {
        p.close();
      }
    }
  }

  /**
   * The primitives of one product shape and the memory objects their data handles are set on per call: for a bf16
   * weight the cast of x, the product and the cast back; for a float32 one the product alone (the casts null).
   */
  private static final class Plan implements AutoCloseable {
    final memory srcF32;
    final memory srcBf16;
    final memory dstBf16;
    final memory dstF32;
    final reorder toBf16;
    final matmul matmul;
    final reorder toF32;

    Plan(long m, long k, long n, memory.desc packed, boolean bf16) {
      Pointer none = new Pointer();
      srcF32 = new memory(desc(m, k, memory.data_type.f32, memory.format_tag.ab), cpu, none);
      dstF32 = new memory(desc(m, n, memory.data_type.f32, memory.format_tag.ab), cpu, none);
      if (bf16) {
        srcBf16 = new memory(desc(m, k, memory.data_type.bf16, memory.format_tag.ab), cpu, none);
        dstBf16 = new memory(desc(m, n, memory.data_type.bf16, memory.format_tag.ab), cpu, none);
        toBf16 = new reorder(new reorder.primitive_desc(srcF32, srcBf16));
        toF32 = new reorder(new reorder.primitive_desc(dstBf16, dstF32));
      } else {
        srcBf16 = null;
        dstBf16 = null;
        toBf16 = null;
        toF32 = null;
      }
      memory src = bf16 ? srcBf16 : srcF32;
      memory dst = bf16 ? dstBf16 : dstF32;
      try (matmul.primitive_desc pd = new matmul.primitive_desc(cpu, src.get_desc(), packed, dst.get_desc())) {
        matmul = new matmul(pd);
      }
    }

    @Override
    public void close() {
      for (Pointer p : new Pointer[] {toBf16, matmul, toF32, srcF32, srcBf16, dstBf16, dstF32}) {
        if (p != null) {
          p.close();
        }
      }
    }
  }
}
