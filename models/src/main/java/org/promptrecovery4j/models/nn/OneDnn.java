package org.promptrecovery4j.models.nn;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.eltwise_forward;
import org.bytedeco.dnnl.matmul;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.post_ops;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.softmax_forward;
import org.bytedeco.dnnl.stream;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.binary;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_ATTR_SCALES;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_0;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_1;
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

  /** Whether oneDNN 3.3 runs here at all (the CPU backend, its natives loaded, the property not false): {@link #attention}. */
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
   * Whether a gated MLP whose three weights are packed runs as one {@link PackedGatedMlpOp} ({@code
   * -Dpr4j.onednn3.fusedMlp}, default true; false keeps its products, activation and product as separate ops).
   */
  public static boolean fusesGatedMlp() {
    return loaded() && Boolean.parseBoolean(System.getProperty(PROPERTY + ".fusedMlp", "true").trim());
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
    INDArray plain = JvmOps.plain(w);
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
    JvmOps.onPlain(new INDArray[] {x}, out, (in, target) -> WORKER.get().run(in[0], w, target));
  }

  /**
   * The oneDNN eltwise algorithm of an HF activation ({@code ACT2FN} name), for {@link #gatedMlp} (a post-op of the
   * gate product) and {@link #activate}; null where oneDNN has none.
   */
  public static org.bytedeco.dnnl.global.dnnl.algorithm activation(String hfName) {
    return switch (hfName) {
      case "silu", "swish" -> org.bytedeco.dnnl.global.dnnl.algorithm.eltwise_swish;
      case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> org.bytedeco.dnnl.global.dnnl.algorithm.eltwise_gelu_tanh;
      case "gelu" -> org.bytedeco.dnnl.global.dnnl.algorithm.eltwise_gelu_erf;
      case "relu" -> org.bytedeco.dnnl.global.dnnl.algorithm.eltwise_relu;
      default -> null;
    };
  }

  /**
   * {@code out = act(x)} element-wise for float32 arrays of one length ({@code act} an HF activation name that
   * {@link #activation} knows), by oneDNN's eltwise primitive over the elements as one flat vector.
   */
  public static void activate(INDArray x, String act, INDArray out) {
    requireLoaded();
    org.bytedeco.dnnl.global.dnnl.algorithm algorithm = activation(act);
    if (algorithm == null || x.dataType() != DataType.FLOAT || out.dataType() != DataType.FLOAT
        || x.length() != out.length()) {
      throw new IllegalArgumentException("activation '" + act + "' of " + describe(x) + " into " + describe(out)
          + (algorithm == null ? ": no oneDNN eltwise algorithm for it" : ": float32 arrays of one length expected"));
    }
    if (x.length() == 0) {
      return;
    }
    JvmOps.onPlain(new INDArray[] {x}, out, (in, target) -> WORKER.get().activate(in[0], algorithm, target));
  }

  /**
   * The gated MLP of Llama, Mistral and Gemma on packed weights of one type: {@code out [M, H] = down(act(x gate) ·
   * (x up))} for float32 {@code x [M, H]}, in three oneDNN products and no other pass over the {@code [M, I]}
   * intermediates: the activation is a post-op of the gate product, the multiplication by it a post-op of the up
   * product, and for bf16 weights both intermediates stay bf16. Rounding for bf16 weights: x is rounded to bf16 once,
   * {@code g = bf16(act(x gate))}, {@code p = bf16((x up) · g)}, {@code out = bf16(p down)} widened (products accumulate
   * in float32; PyTorch's bf16 module rounds the two products before the activation and the multiplication too, so
   * each intermediate may differ from it by one bf16 rounding). Float32 weights: all float32.
   */
  public static void gatedMlp(INDArray x, PackedWeight gate, PackedWeight up, PackedWeight down, String act,
      INDArray out) {
    requireLoaded();
    org.bytedeco.dnnl.global.dnnl.algorithm algorithm = activation(act);
    boolean fits = x.rank() == 2 && out.rank() == 2 && x.dataType() == DataType.FLOAT
        && out.dataType() == DataType.FLOAT && x.size(1) == gate.k() && up.k() == gate.k() && up.n() == gate.n()
        && down.k() == gate.n() && out.size(0) == x.size(0) && out.size(1) == down.n() && gate.bf16() == up.bf16()
        && gate.bf16() == down.bf16();
    if (!fits || algorithm == null) {
      throw new IllegalArgumentException("packed gated MLP: x " + x.dataType() + java.util.Arrays.toString(x.shape())
          + ", out " + out.dataType() + java.util.Arrays.toString(out.shape()) + ", gate/up/down [" + gate.k() + ", "
          + gate.n() + "]/[" + up.k() + ", " + up.n() + "]/[" + down.k() + ", " + down.n() + "] of "
          + (gate.bf16() ? "bf16" : "float32") + "/" + (up.bf16() ? "bf16" : "float32") + "/"
          + (down.bf16() ? "bf16" : "float32") + ", activation '" + act + "'"
          + (algorithm == null ? " (no oneDNN post-op for it)" : "") + " do not fit");
    }
    if (x.size(0) == 0) {
      return;
    }
    JvmOps.onPlain(new INDArray[] {x}, out,
        (in, target) -> WORKER.get().gatedMlp(in[0], gate, up, down, algorithm, target));
  }

  /**
   * Scaled dot-product attention per (row, KV head) in four oneDNN calls: {@code out = softmax(q kᵀ · scale + bias) v}
   * for float32 {@code q [B, KV, Q, D]}, {@code keys} and {@code values [B, KV, T, D]}, {@code bias [B, 1, Q, T]} (added
   * to every head: the mask) and {@code out [B, KV, Q, D]}: {@code q kᵀ}, then the scale and the mask in one pass (a
   * binary add whose first input is scaled), the softmax in place (the scores live in a scratch buffer, never a graph
   * array), then the product with the values; all float32.
   */
  public static void attention(INDArray q, INDArray keys, INDArray values, INDArray bias, double scale, INDArray out) {
    requireLoaded();
    INDArray[] all = {q, keys, values, bias, out};
    boolean fits = true;
    for (INDArray a : all) {
      fits &= a.rank() == 4 && a.dataType() == DataType.FLOAT;
    }
    fits = fits && keys.equalShapes(values) && keys.size(0) == q.size(0) && keys.size(1) == q.size(1)
        && keys.size(3) == q.size(3) && out.equalShapes(q) && bias.size(0) == q.size(0) && bias.size(1) == 1
        && bias.size(2) == q.size(2) && bias.size(3) == keys.size(2);
    if (!fits) {
      throw new IllegalArgumentException("attention: q " + describe(q) + ", keys " + describe(keys) + ", values "
          + describe(values) + ", bias " + describe(bias) + " and out " + describe(out)
          + " do not fit [B, KV, Q, D], [B, KV, T, D] twice, [B, 1, Q, T] and [B, KV, Q, D] (float32)");
    }
    if (out.length() == 0) {
      return;
    }
    if (keys.size(2) == 0) {
      throw new IllegalArgumentException("attention over no keys: keys " + describe(keys));
    }
    JvmOps.onPlain(new INDArray[] {q, keys, values, bias}, out,
        (in, target) -> WORKER.get().attention(in[0], in[1], in[2], in[3], (float) scale, target));
  }

  private static String describe(INDArray a) {
    return a.dataType() + java.util.Arrays.toString(a.shape());
  }

  /** The descriptor of c-order {@code shape} read as its last two axes swapped when {@code swapLast}. */
  private static memory.desc strided(long[] shape, boolean swapLast) {
    return strided(shape, swapLast, memory.data_type.f32);
  }

  private static memory.desc strided(long[] shape, boolean swapLast, memory.data_type type) {
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
    return new memory.desc(new LongPointer(dims), type, new LongPointer(strides));
  }


  /** One thread's stream, bf16 scratch buffers and plans (primitives for one {@code [M, K, N]}). */
  private static final class Worker {
    private final stream stream = new stream(cpu);
    private final Map<String, Plan> plans = lru();
    private final Map<String, GatedPlan> gated = lru();

    /** The most recently used {@link #PLANS_PER_THREAD} plans; an evicted one frees its primitives. */
    private static <K, P extends AutoCloseable> Map<K, P> lru() {
      return new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<K, P> eldest) {
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
      p.io.srcF32.set_data_handle(x.data().addressPointer());
      p.io.dstF32.set_data_handle(out.data().addressPointer());
      if (!w.bf16()) { // the product alone
        try (IntMemoryMap product = new IntMemoryMap()) {
          p.matmul.execute(stream, product.put(DNNL_ARG_SRC, p.io.srcF32).put(DNNL_ARG_WEIGHTS, w.memory())
              .put(DNNL_ARG_DST, p.io.dstF32));
          stream._wait();
        }
        return;
      }
      srcScratch = atLeast(srcScratch, m * w.k() * 2);
      dstScratch = atLeast(dstScratch, m * w.n() * 2);
      p.io.srcBf16.set_data_handle(srcScratch);
      p.io.dstBf16.set_data_handle(dstScratch);
      try (IntMemoryMap toBf16 = new IntMemoryMap();
          IntMemoryMap product = new IntMemoryMap();
          IntMemoryMap toF32 = new IntMemoryMap()) {
        p.io.toBf16.execute(stream, toBf16.put(DNNL_ARG_FROM, p.io.srcF32).put(DNNL_ARG_TO, p.io.srcBf16));
        p.matmul.execute(stream, product.put(DNNL_ARG_SRC, p.io.srcBf16).put(DNNL_ARG_WEIGHTS, w.memory())
            .put(DNNL_ARG_DST, p.io.dstBf16));
        p.io.toF32.execute(stream, toF32.put(DNNL_ARG_FROM, p.io.dstBf16).put(DNNL_ARG_TO, p.io.dstF32));
        stream._wait();
      }
    }

    private final Map<String, eltwise_forward> activations = lru();
    private final Map<Long, Vectors> flat = lru();

    void activate(INDArray x, org.bytedeco.dnnl.global.dnnl.algorithm act, INDArray out) {
      long n = x.length();
      Vectors v = flat.computeIfAbsent(n, Vectors::new);
      eltwise_forward e = activations.computeIfAbsent(n + " " + act, k -> {
        float alpha = act == org.bytedeco.dnnl.global.dnnl.algorithm.eltwise_relu ? 0f : 1f;
        try (eltwise_forward.primitive_desc pd = new eltwise_forward.primitive_desc(cpu,
            org.bytedeco.dnnl.global.dnnl.prop_kind.forward_inference, act, v.src.get_desc(), v.dst.get_desc(), alpha,
            0f)) {
          return new eltwise_forward(pd);
        }
      });
      v.src.set_data_handle(x.data().addressPointer());
      v.dst.set_data_handle(out.data().addressPointer());
      try (IntMemoryMap args = new IntMemoryMap()) {
        e.execute(stream, args.put(DNNL_ARG_SRC, v.src).put(DNNL_ARG_DST, v.dst));
        stream._wait();
      }
    }

    private BytePointer gateScratch = new BytePointer(0L);
    private BytePointer productScratch = new BytePointer(0L);

    void gatedMlp(INDArray x, PackedWeight gate, PackedWeight up, PackedWeight down,
        org.bytedeco.dnnl.global.dnnl.algorithm act, INDArray out) {
      long m = x.size(0);
      boolean bf16 = gate.bf16();
      GatedPlan p = gated.computeIfAbsent(m + "x" + gate.k() + "x" + gate.n() + (bf16 ? "bf16" : "f32") + act,
          key -> new GatedPlan(m, gate, up, down, act));
      long width = bf16 ? 2 : 4;
      gateScratch = atLeast(gateScratch, m * gate.n() * width);
      productScratch = atLeast(productScratch, m * gate.n() * width);
      p.io.srcF32.set_data_handle(x.data().addressPointer());
      p.io.dstF32.set_data_handle(out.data().addressPointer());
      p.gated.set_data_handle(gateScratch);
      p.product.set_data_handle(productScratch);
      try (IntMemoryMap toBf16 = new IntMemoryMap();
          IntMemoryMap gateArgs = new IntMemoryMap();
          IntMemoryMap upArgs = new IntMemoryMap();
          IntMemoryMap downArgs = new IntMemoryMap();
          IntMemoryMap toF32 = new IntMemoryMap()) {
        memory src = p.io.srcF32;
        memory dst = p.io.dstF32;
        if (bf16) {
          srcScratch = atLeast(srcScratch, m * gate.k() * 2);
          dstScratch = atLeast(dstScratch, m * down.n() * 2);
          p.io.srcBf16.set_data_handle(srcScratch);
          p.io.dstBf16.set_data_handle(dstScratch);
          p.io.toBf16.execute(stream, toBf16.put(DNNL_ARG_FROM, p.io.srcF32).put(DNNL_ARG_TO, p.io.srcBf16));
          src = p.io.srcBf16;
          dst = p.io.dstBf16;
        }
        p.gate.execute(stream, gateArgs.put(DNNL_ARG_SRC, src).put(DNNL_ARG_WEIGHTS, gate.memory())
            .put(DNNL_ARG_DST, p.gated));
        p.up.execute(stream, upArgs.put(DNNL_ARG_SRC, src).put(DNNL_ARG_WEIGHTS, up.memory())
            .put(DNNL_ARG_DST, p.product).put(DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE | DNNL_ARG_SRC_1, p.gated));
        p.down.execute(stream, downArgs.put(DNNL_ARG_SRC, p.product).put(DNNL_ARG_WEIGHTS, down.memory())
            .put(DNNL_ARG_DST, dst));
        if (bf16) {
          p.io.toF32.execute(stream, toF32.put(DNNL_ARG_FROM, p.io.dstBf16).put(DNNL_ARG_TO, p.io.dstF32));
        }
        stream._wait();
      }
    }

    private BytePointer scoresScratch = new BytePointer(0L);
    private final Map<String, AttentionPlan> attentions = lru();

    void attention(INDArray q, INDArray keys, INDArray values, INDArray bias, float scale, INDArray out) {
      String key = java.util.Arrays.toString(q.shape()) + java.util.Arrays.toString(keys.shape()) + scale;
      AttentionPlan p = attentions.computeIfAbsent(key, x -> new AttentionPlan(q.shape(), keys.shape(), scale));
      scoresScratch = atLeast(scoresScratch, q.size(0) * q.size(1) * q.size(2) * keys.size(2) * 4);
      p.q.set_data_handle(q.data().addressPointer());
      p.keys.set_data_handle(keys.data().addressPointer());
      p.values.set_data_handle(values.data().addressPointer());
      p.bias.set_data_handle(bias.data().addressPointer());
      p.scores.set_data_handle(scoresScratch);
      p.out.set_data_handle(out.data().addressPointer());
      try (IntMemoryMap scores = new IntMemoryMap();
          IntMemoryMap mask = new IntMemoryMap();
          IntMemoryMap softmax = new IntMemoryMap();
          IntMemoryMap context = new IntMemoryMap()) {
        p.scoresProduct.execute(stream, scores.put(DNNL_ARG_SRC, p.q).put(DNNL_ARG_WEIGHTS, p.keys)
            .put(DNNL_ARG_DST, p.scores));
        p.masked.execute(stream, mask.put(DNNL_ARG_SRC_0, p.scores).put(DNNL_ARG_SRC_1, p.bias)
            .put(DNNL_ARG_ATTR_SCALES | DNNL_ARG_SRC_0, p.scaleMemory).put(DNNL_ARG_DST, p.scores));
        p.softmax.execute(stream, softmax.put(DNNL_ARG_SRC, p.scores).put(DNNL_ARG_DST, p.scores));
        p.contextProduct.execute(stream, context.put(DNNL_ARG_SRC, p.scores).put(DNNL_ARG_WEIGHTS, p.values)
            .put(DNNL_ARG_DST, p.out));
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

  /** A flat float32 input and output of one length (data handles set per call), for {@link #activate}. */
  private static final class Vectors implements AutoCloseable {
    final memory src;
    final memory dst;

    Vectors(long n) {
      memory.desc d = new memory.desc(new LongPointer(new long[] {n}), memory.data_type.f32, memory.format_tag.a);
      src = new memory(d, cpu, new Pointer());
      dst = new memory(d, cpu, new Pointer());
    }

    @Override
    public void close() {
      src.close();
      dst.close();
    }
  }

  /**
   * The three primitives of one attention shape ({@link #attention}): {@code q kᵀ} with the scale and the bias as
   * post-ops, the softmax over the key axis in place, and the product with the values.
   */
  private static final class AttentionPlan implements AutoCloseable {
    final memory q;
    final memory keys;
    final memory values;
    final memory bias;
    final memory scores;
    final memory out;
    final matmul scoresProduct;
    final binary masked;
    final org.bytedeco.javacpp.FloatPointer scaleValue;
    final memory scaleMemory;
    final softmax_forward softmax;
    final matmul contextProduct;

    AttentionPlan(long[] qShape, long[] kShape, float scale) {
      Pointer none = new Pointer();
      long[] scoresShape = {qShape[0], qShape[1], qShape[2], kShape[2]};
      q = new memory(strided(qShape, false), cpu, none);
      keys = new memory(strided(kShape, true), cpu, none);
      values = new memory(strided(kShape, false), cpu, none);
      bias = new memory(strided(new long[] {qShape[0], 1, qShape[2], kShape[2]}, false), cpu, none);
      scores = new memory(strided(scoresShape, false), cpu, none);
      out = new memory(strided(qShape, false), cpu, none);
      scaleValue = new org.bytedeco.javacpp.FloatPointer(1).put(scale);
      scaleMemory = new memory(new memory.desc(new LongPointer(new long[] {1}), memory.data_type.f32, memory.format_tag.a), cpu,
          scaleValue);
      try (matmul.primitive_desc pd = new matmul.primitive_desc(cpu, q.get_desc(), keys.get_desc(),
          scores.get_desc())) {
        scoresProduct = new matmul(pd);
      }
      try (primitive_attr attr = new primitive_attr()) {
        attr.set_scales_mask(DNNL_ARG_SRC_0, 0);
        try (binary.primitive_desc pd = new binary.primitive_desc(cpu,
            org.bytedeco.dnnl.global.dnnl.algorithm.binary_add, scores.get_desc(), bias.get_desc(), scores.get_desc(),
            attr, false)) {
          masked = new binary(pd);
        }
      }
      try (softmax_forward.primitive_desc pd = new softmax_forward.primitive_desc(cpu,
          org.bytedeco.dnnl.global.dnnl.prop_kind.forward_inference,
          org.bytedeco.dnnl.global.dnnl.algorithm.softmax_accurate, scores.get_desc(), scores.get_desc(), 3)) {
        softmax = new softmax_forward(pd);
      }
      try (matmul.primitive_desc pd = new matmul.primitive_desc(cpu, scores.get_desc(), values.get_desc(),
          out.get_desc())) {
        contextProduct = new matmul(pd);
      }
    }

    @Override
    public void close() {
      for (Pointer p : new Pointer[] {scoresProduct, masked, softmax, contextProduct, scaleMemory, scaleValue, q, keys, values, bias, scores, out}) {
        p.close();
      }
    }
  }

  /**
   * The primitives of one gated MLP shape ({@link #gatedMlp}): for bf16 weights the cast of x, the gate product with the
   * activation as a post-op, the up product multiplied by the gate's output as a post-op, the down product and the cast
   * back; for float32 weights the three products alone (the casts null).
   */
  private static final class GatedPlan implements AutoCloseable {
    final Io io;
    final memory gated;
    final memory product;
    final matmul gate;
    final matmul up;
    final matmul down;

    GatedPlan(long m, PackedWeight gateW, PackedWeight upW, PackedWeight downW,
        org.bytedeco.dnnl.global.dnnl.algorithm act) {
      boolean bf16 = gateW.bf16();
      memory.data_type type = bf16 ? memory.data_type.bf16 : memory.data_type.f32;
      long h = gateW.k();
      long i = gateW.n();
      long o = downW.n();
      Pointer none = new Pointer();
      io = new Io(m, h, o, bf16);
      gated = new memory(desc(m, i, type, memory.format_tag.ab), cpu, none);
      product = new memory(desc(m, i, type, memory.format_tag.ab), cpu, none);
      memory src = io.src();
      try (post_ops activation = new post_ops();
          post_ops times = new post_ops();
          primitive_attr gateAttr = new primitive_attr();
          primitive_attr upAttr = new primitive_attr()) {
        // alpha: swish's x·sigmoid(αx) with α = 1; relu's slope below zero, 0; the gelus ignore it
        activation.append_eltwise(act, act == org.bytedeco.dnnl.global.dnnl.algorithm.eltwise_relu ? 0f : 1f, 0f);
        gateAttr.set_post_ops(activation);
        times.append_binary(org.bytedeco.dnnl.global.dnnl.algorithm.binary_mul, gated.get_desc());
        upAttr.set_post_ops(times);
        gate = primitive(src.get_desc(), gateW.desc(), gated.get_desc(), gateAttr);
        up = primitive(src.get_desc(), upW.desc(), product.get_desc(), upAttr);
      }
      down = primitive(product.get_desc(), downW.desc(), io.dst().get_desc(), null);
    }

    private static matmul primitive(memory.desc src, memory.desc weights, memory.desc dst, primitive_attr attr) {
      try (matmul.primitive_desc pd = attr == null ? new matmul.primitive_desc(cpu, src, weights, dst)
          : new matmul.primitive_desc(cpu, src, weights, dst, attr, false)) {
        return new matmul(pd);
      }
    }

    @Override
    public void close() {
      for (Pointer p : new Pointer[] {gate, up, down, gated, product}) {
        p.close();
      }
      io.close();
    }
  }

  /**
   * The primitives of one product shape and the memory objects their data handles are set on per call: for a bf16
   * weight the cast of x, the product and the cast back; for a float32 one the product alone (the casts null).
   */
  private static final class Plan implements AutoCloseable {
    final Io io;
    final matmul matmul;

    Plan(long m, long k, long n, memory.desc packed, boolean bf16) {
      io = new Io(m, k, n, bf16);
      try (matmul.primitive_desc pd = new matmul.primitive_desc(cpu, io.src().get_desc(), packed, io.dst().get_desc())) {
        matmul = new matmul(pd);
      }
    }

    @Override
    public void close() {
      matmul.close();
      io.close();
    }
  }

  /**
   * A product's float32 input {@code [M, K]} and output {@code [M, N]} (data handles set per call) and, for bf16 weights,
   * their bf16 forms and the casts to and from them (null for float32 weights).
   */
  private static final class Io implements AutoCloseable {
    final memory srcF32;
    final memory dstF32;
    final memory srcBf16;
    final memory dstBf16;
    final reorder toBf16;
    final reorder toF32;

    Io(long m, long k, long n, boolean bf16) {
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
    }

    /** The product's input as its primitive reads it (bf16 for a bf16 weight). */
    memory src() {
      return srcBf16 != null ? srcBf16 : srcF32;
    }

    /** The product's output as its primitive writes it. */
    memory dst() {
      return dstBf16 != null ? dstBf16 : dstF32;
    }

    @Override
    public void close() {
      for (Pointer p : new Pointer[] {toBf16, toF32, srcF32, srcBf16, dstBf16, dstF32}) {
        if (p != null) {
          p.close();
        }
      }
    }
  }
}
