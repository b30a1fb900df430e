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
import org.promptrecovery4j.weights.config.ConfigLimits;
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
      if (v[5] == Integer.MIN_VALUE || headerProblem(v[0], v[1], v[2], v[3], v[4], Math.abs(v[5]), v[6]) != null) {
        return false;
      }
      return expectedBytes(false, v[0], v[1], v[2], v[3], v[4], Math.abs(v[5]), v[6], v[5] > 0) == Files.size(file);
    } catch (IOException | ArithmeticException e) {
      return false;
    }
  }

  /**
   * What is wrong with a header's sizes, or null: each must be positive and within {@link ConfigLimits} (so
   * that every size computed from them below fits a {@code long}), heads must divide dim and kv heads heads.
   */
  private static String headerProblem(int dim, int hidden, int layers, int heads, int kvHeads, int vocab, int seqLen) {
    if (dim <= 0 || dim > ConfigLimits.MAX_HIDDEN || hidden <= 0 || hidden > ConfigLimits.MAX_INTERMEDIATE
        || layers <= 0 || layers > ConfigLimits.MAX_LAYERS || heads <= 0 || heads > ConfigLimits.MAX_HEADS
        || kvHeads <= 0 || kvHeads > heads || vocab <= 0 || vocab > ConfigLimits.MAX_VOCAB || seqLen <= 0
        || seqLen > ConfigLimits.MAX_POSITIONS) {
      return "a size is not positive or above the supported limits (dim <= " + ConfigLimits.MAX_HIDDEN
          + ", hidden_dim <= " + ConfigLimits.MAX_INTERMEDIATE + ", n_layers <= " + ConfigLimits.MAX_LAYERS
          + ", n_kv_heads <= n_heads <= " + ConfigLimits.MAX_HEADS + ", vocab_size <= " + ConfigLimits.MAX_VOCAB
          + ", seq_len <= " + ConfigLimits.MAX_POSITIONS + ")";
    }
    if (dim % heads != 0 || heads % kvHeads != 0) {
      return "n_heads must divide dim and n_kv_heads must divide n_heads";
    }
    if ((dim / heads) % 2 != 0) {
      return "the head size dim / n_heads is odd (rotary embeddings need an even head size)";
    }
    return null;
  }

  /** The file size the header implies, in bytes (overflow-checked; the sizes are bounded by {@link #headerProblem}). */
  private static long expectedBytes(boolean v1, long dim, long hidden, long layers, long heads, long kvHeads,
      long vocab, long seq, boolean shared) {
    long kvDim = dim * kvHeads / heads;
    long headSize = dim / heads;
    long perLayer = Math.addExact(Math.addExact(2 * dim, Math.multiplyExact(dim, dim) * 2),
        Math.addExact(Math.multiplyExact(2 * dim, kvDim), Math.multiplyExact(3 * dim, hidden)));
    long floats = Math.addExact(Math.multiplyExact(vocab, dim), Math.multiplyExact(layers, perLayer));
    floats = Math.addExact(floats, dim);
    if (!v1) {
      floats = Math.addExact(floats, Math.multiplyExact(seq, headSize)); // freq_cis_real, freq_cis_imag
    }
    if (!shared) {
      floats = Math.addExact(floats, Math.multiplyExact(vocab, dim));
    }
    return Math.addExact(Math.multiplyExact(floats, 4L), v1 ? 256L : 28L);
  }

  public static Llama2cCheckpoint open(Path file) throws IOException {
    ByteBuffer all;
    try (var ch = java.nio.channels.FileChannel.open(file)) {
      long size = ch.size();
      if (size < 28) {
        throw new ModelFormatException(file + ": " + size + " bytes, too short to be a llama2.c checkpoint (the"
            + " header alone is 28 bytes)");
      }
      ByteBuffer head = ByteBuffer.allocate((int) Math.min(size, 256)).order(ByteOrder.LITTLE_ENDIAN);
      while (head.hasRemaining() && ch.read(head, head.position()) > 0) {}
      boolean v1 = head.getInt(0) == MAGIC;
      if (v1 && size < 256) {
        throw new ModelFormatException(file + ": " + size + " bytes, too short for a llama2.c version 1 checkpoint"
            + " (the header alone is 256 bytes)");
      }
      int base = v1 ? 8 : 0;
      if (v1 && head.getInt(4) != 1) {
        throw new ModelFormatException(file + ": llama2.c checkpoint version " + head.getInt(4)
            + " is not supported (only the legacy format and version 1, float32)");
      }
      int dim = head.getInt(base);
      int hidden = head.getInt(base + 4);
      int layers = head.getInt(base + 8);
      int heads = head.getInt(base + 12);
      int kvHeads = head.getInt(base + 16);
      int rawVocab = head.getInt(base + 20);
      int seqLen = head.getInt(base + 24);
      boolean shared = v1 ? head.get(base + 28) != 0 : rawVocab > 0;
      int vocab = rawVocab == Integer.MIN_VALUE ? 0 : Math.abs(rawVocab);
      String problem = headerProblem(dim, hidden, layers, heads, kvHeads, vocab, seqLen);
      if (problem != null) {
        throw new ModelFormatException(file + ": not a llama2.c checkpoint (header dim " + dim + ", hidden_dim " + hidden
            + ", n_layers " + layers + ", n_heads " + heads + ", n_kv_heads " + kvHeads + ", vocab_size " + rawVocab
            + ", seq_len " + seqLen + "): " + problem);
      }
      // the whole size the header implies, checked before any tensor is allocated
      long expected = expectedBytes(v1, dim, hidden, layers, heads, kvHeads, vocab, seqLen, shared);
      if (expected != size) {
        throw new ModelFormatException(file + ": llama2.c checkpoint has " + size + " bytes, but its header (dim " + dim
            + ", hidden_dim " + hidden + ", n_layers " + layers + ", n_heads " + heads + ", n_kv_heads " + kvHeads
            + ", vocab_size " + rawVocab + ", seq_len " + seqLen + ") implies " + expected + " bytes"
            + (size < expected ? ": the file is truncated (it ends inside the tensors)" : ""));
      }
      if (size > Integer.MAX_VALUE) {
        throw new ModelFormatException(file + ": llama2.c checkpoints over 2 GB are not supported");
      }
      all = ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.LITTLE_ENDIAN);
      MistralConfig config = new MistralConfig("llama", "float32", vocab, dim, hidden, layers, heads, kvHeads,
          dim / heads, "silu", seqLen, 1e-5, shared, 10000.0, null, false, false, List.of(1), List.of(2));
      Llama2cCheckpoint c = new Llama2cCheckpoint(file, config);
      c.read(all, v1 ? 256 : 28, v1);
      return c;
    }
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
