package org.promptrecovery4j.weights.llama2c;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.promptrecovery4j.weights.DType;
import org.promptrecovery4j.weights.ModelFormatException;
import org.promptrecovery4j.weights.TensorInfo;
import org.promptrecovery4j.weights.WeightSource;
import org.promptrecovery4j.weights.config.MistralConfig;

/**
 * A llama2.c checkpoint ({@code run.c}'s format: Karpathy's llama2.c) as HF Llama tensors and a
 * {@code llama} {@link MistralConfig}. Both layouts of export.py are read: the legacy one (version 0:
 * seven int32 header fields, float32 tensors, a negative vocab size meaning an unshared classifier) and
 * version 1 (magic {@code ak42}, a 256-byte header). q/k weights are permuted from Meta's interleaved
 * rotary layout to HF's {@code rotate_half} layout, as transformers' convert_llama_weights_to_hf does.
 * The file is small by design (the format is float32, made for small models): tensors are held in memory.
 */
public final class Llama2cCheckpoint implements WeightSource {

  private static final int MAGIC = 0x616b3432; // "ak42"

  private final Path file;
  private final MistralConfig config;
  private final Map<String, TensorInfo> infos = new LinkedHashMap<>();
  private final Map<String, ByteBuffer> data = new LinkedHashMap<>();

  private Llama2cCheckpoint(Path file, MistralConfig config) {
    this.file = file;
    this.config = config;
  }

  /** Is {@code file} a llama2.c checkpoint (by its header)? */
  public static boolean looksLike(Path file) {
    if (!Files.isRegularFile(file)) {
      return false;
    }
    try (var ch = Files.newByteChannel(file)) {
      ByteBuffer h = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
      while (h.hasRemaining() && ch.read(h) > 0) {}
      if (h.hasRemaining()) {
        return false;
      }
      h.flip();
      if (h.getInt(0) == MAGIC) {
        return true;
      }
      int[] v = new int[7];
      for (int i = 0; i < 7; i++) {
        v[i] = h.getInt(i * 4);
      }
      long expected = legacyFloats(v[0], v[1], v[2], v[3], v[4], Math.abs(v[5]), v[6], v[5] > 0) * 4 + 28;
      return v[0] > 0 && v[3] > 0 && v[4] > 0 && expected == Files.size(file);
    } catch (IOException | ArithmeticException e) {
      return false;
    }
  }

  private static long legacyFloats(long dim, long hidden, long layers, long heads, long kvHeads, long vocab, long seq,
      boolean shared) {
    long kvDim = dim * kvHeads / heads;
    long headSize = dim / heads;
    return vocab * dim + layers * (2 * dim + dim * dim * 2 + 2 * dim * kvDim + 3 * dim * hidden) + dim
        + seq * headSize + (shared ? 0 : vocab * dim);
  }

  public static Llama2cCheckpoint open(Path file) throws IOException {
    ByteBuffer all;
    try (var ch = java.nio.channels.FileChannel.open(file)) {
      if (ch.size() > Integer.MAX_VALUE) {
        throw new ModelFormatException(file + ": llama2.c checkpoints over 2 GB are not supported");
      }
      all = ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, ch.size()).order(ByteOrder.LITTLE_ENDIAN);
    }
    boolean v1 = all.getInt(0) == MAGIC;
    int base = v1 ? 8 : 0;
    if (v1 && all.getInt(4) != 1) {
      throw new ModelFormatException(file + ": llama2.c checkpoint version " + all.getInt(4)
          + " is not supported (only the legacy format and version 1, float32)");
    }
    int dim = all.getInt(base);
    int hidden = all.getInt(base + 4);
    int layers = all.getInt(base + 8);
    int heads = all.getInt(base + 12);
    int kvHeads = all.getInt(base + 16);
    int vocab = all.getInt(base + 20);
    int seqLen = all.getInt(base + 24);
    boolean shared = v1 ? all.get(base + 28) != 0 : vocab > 0;
    vocab = Math.abs(vocab);
    if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0
        || dim % heads != 0 || seqLen <= 0) {
      throw new ModelFormatException(file + ": not a llama2.c checkpoint (header " + dim + ", " + hidden + ", " + layers
          + ", " + heads + ", " + kvHeads + ", " + vocab + ", " + seqLen + ")");
    }
    MistralConfig config = new MistralConfig("llama", "float32", vocab, dim, hidden, layers, heads, kvHeads,
        dim / heads, "silu", seqLen, 1e-5, shared, 10000.0, null, false, false, List.of(1), List.of(2));
    Llama2cCheckpoint c = new Llama2cCheckpoint(file, config);
    c.read(all, v1 ? 256 : 28, v1);
    return c;
  }

  private void read(ByteBuffer all, int start, boolean v1) {
    int dim = config.hiddenSize();
    int hidden = config.intermediateSize();
    int layers = config.numHiddenLayers();
    int heads = config.numAttentionHeads();
    int kvHeads = config.numKeyValueHeads();
    int kvDim = dim * kvHeads / heads;
    int vocab = config.vocabSize();
    Cursor at = new Cursor(all, start);
    if (v1) {
      for (int l = 0; l < layers; l++) {
        at.take(layer(l, "input_layernorm.weight"), dim);
      }
      for (int l = 0; l < layers; l++) {
        at.take(layer(l, "post_attention_layernorm.weight"), dim);
      }
      at.take("model.norm.weight", dim);
      at.take("model.embed_tokens.weight", vocab, dim);
      String[][] kinds = {
        {"self_attn.q_proj.weight", "q"}, {"self_attn.k_proj.weight", "k"}, {"self_attn.v_proj.weight", ""},
        {"self_attn.o_proj.weight", ""}, {"mlp.gate_proj.weight", ""}, {"mlp.down_proj.weight", ""},
        {"mlp.up_proj.weight", ""}};
      for (String[] kind : kinds) {
        for (int l = 0; l < layers; l++) {
          takeLayerMatrix(at, l, kind[0], dim, hidden, kvDim);
        }
      }
    } else {
      at.take("model.embed_tokens.weight", vocab, dim);
      for (int l = 0; l < layers; l++) {
        at.take(layer(l, "input_layernorm.weight"), dim);
      }
      for (String kind : List.of("self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
          "self_attn.o_proj.weight")) {
        for (int l = 0; l < layers; l++) {
          takeLayerMatrix(at, l, kind, dim, hidden, kvDim);
        }
      }
      for (int l = 0; l < layers; l++) {
        at.take(layer(l, "post_attention_layernorm.weight"), dim);
      }
      for (String kind : List.of("mlp.gate_proj.weight", "mlp.down_proj.weight", "mlp.up_proj.weight")) {
        for (int l = 0; l < layers; l++) {
          takeLayerMatrix(at, l, kind, dim, hidden, kvDim);
        }
      }
      at.take("model.norm.weight", dim);
      at.skip((long) config.maxPositionEmbeddings() * (dim / heads)); // freq_cis_real, freq_cis_imag
    }
    if (!config.tieWordEmbeddings()) {
      at.take("lm_head.weight", vocab, dim);
    }
    if (at.position != all.capacity()) {
      throw new ModelFormatException(file + ": llama2.c checkpoint has " + all.capacity() + " bytes, the header implies "
          + at.position);
    }
  }

  private void takeLayerMatrix(Cursor at, int l, String kind, int dim, int hidden, int kvDim) {
    switch (kind) {
      case "self_attn.q_proj.weight" -> at.takePermuted(layer(l, kind), config.numAttentionHeads(), dim, dim);
      case "self_attn.k_proj.weight" -> at.takePermuted(layer(l, kind), config.numKeyValueHeads(), kvDim, dim);
      case "self_attn.v_proj.weight" -> at.take(layer(l, kind), kvDim, dim);
      case "self_attn.o_proj.weight" -> at.take(layer(l, kind), dim, dim);
      case "mlp.gate_proj.weight", "mlp.up_proj.weight" -> at.take(layer(l, kind), hidden, dim);
      case "mlp.down_proj.weight" -> at.take(layer(l, kind), dim, hidden);
      default -> throw new IllegalStateException(kind);
    }
  }

  private static String layer(int l, String name) {
    return "model.layers." + l + "." + name;
  }

  /** Reads float32 tensors one after the other. */
  private final class Cursor {
    final ByteBuffer all;
    long position;

    Cursor(ByteBuffer all, long position) {
      this.all = all;
      this.position = position;
    }

    void skip(long floats) {
      position += floats * 4;
    }

    void take(String name, long... shape) {
      long n = 1;
      for (long s : shape) {
        n *= s;
      }
      check(name, n);
      ByteBuffer b = ByteBuffer.allocateDirect((int) (n * 4)).order(ByteOrder.LITTLE_ENDIAN);
      b.put(all.slice((int) position, (int) (n * 4)));
      b.flip();
      put(name, shape, b);
      position += n * 4;
    }

    /** Meta's interleaved rotary rows → HF's: view(heads, rows/heads/2, 2, cols).transpose(1, 2). */
    void takePermuted(String name, int heads, int rows, int cols) {
      long n = (long) rows * cols;
      check(name, n);
      FloatBuffer src = all.slice((int) position, (int) (n * 4)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      ByteBuffer b = ByteBuffer.allocateDirect((int) (n * 4)).order(ByteOrder.LITTLE_ENDIAN);
      FloatBuffer dst = b.asFloatBuffer();
      int headDim = rows / heads;
      int half = headDim / 2;
      float[] row = new float[cols];
      for (int h = 0; h < heads; h++) {
        for (int j = 0; j < half; j++) {
          for (int c = 0; c < 2; c++) {
            int from = h * headDim + j * 2 + c;
            int to = h * headDim + c * half + j;
            src.get(from * cols, row);
            dst.put(to * cols, row);
          }
        }
      }
      put(name, new long[] {rows, cols}, b);
      position += n * 4;
    }

    private void check(String name, long n) {
      if (position + n * 4 > all.capacity()) {
        throw new ModelFormatException(file + ": llama2.c checkpoint ends inside tensor '" + name + "'");
      }
    }

    private void put(String name, long[] shape, ByteBuffer b) {
      infos.put(name, new TensorInfo(name, DType.F32, shape, file, position, b.capacity()));
      data.put(name, b);
    }
  }

  /** The {@code llama} config the header implies (rms eps 1e-5 and rope theta 10000, as run.c). */
  public MistralConfig config() {
    return config;
  }

  @Override
  public Path location() {
    return file;
  }

  @Override
  public List<String> names() {
    return new ArrayList<>(infos.keySet());
  }

  @Override
  public boolean contains(String name) {
    return infos.containsKey(name);
  }

  @Override
  public TensorInfo info(String name) {
    TensorInfo t = infos.get(name);
    if (t == null) {
      throw new ModelFormatException(file + ": no tensor '" + name + "'");
    }
    return t;
  }

  @Override
  public ByteBuffer bytes(String name) {
    info(name);
    return data.get(name).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  @Override
  public void close() {
    data.clear();
  }
}
