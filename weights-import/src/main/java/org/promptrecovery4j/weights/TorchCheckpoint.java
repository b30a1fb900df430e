package org.promptrecovery4j.weights;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.promptrecovery4j.weights.RestrictedUnpickler.Global;
import org.promptrecovery4j.weights.RestrictedUnpickler.PickleException;
import org.promptrecovery4j.weights.RestrictedUnpickler.Tuple;

/**
 * A PyTorch {@code torch.save} state dict ({@code pytorch_model.bin}, {@code .pt}, {@code .pth}), read
 * without executing any pickle code.
 *
 * <p><b>Formats.</b> The zip format of torch ≥ 1.6 ({@code <archive>/data.pkl} plus one
 * {@code <archive>/data/<key>} entry per storage; the folder name varies and is taken from where
 * {@code data.pkl} lies) and the legacy format of older torch ({@code _use_new_zipfile_serialization=False}:
 * magic-number pickle, protocol, sys_info, main pickle, storage key list, then each storage as an
 * 8-byte element count and its raw bytes). The pre-0.4 tar format and big-endian files are refused.
 *
 * <p><b>Safety.</b> {@code data.pkl} is read by {@link RestrictedUnpickler}, which knows only
 * {@code collections.OrderedDict}, the {@code torch._utils._rebuild_tensor*} / {@code _rebuild_parameter*}
 * functions, {@code torch._tensor._rebuild_from_type_v2} for plain tensors and parameters, the torch
 * storage classes and {@code torch.<dtype>} names. Any other global (e.g. {@code os.system}) fails at the
 * opcode that names it, with a {@link ModelFormatException} naming the file and the global; nothing is
 * ever called, the allowed functions only build Java records.
 *
 * <p><b>What is a tensor.</b> The top object must be a dict. Its tensor values, in insertion order, are
 * the tensors; other values (ints, strings, nested dicts, {@code _metadata}) are skipped. If it holds no
 * tensor itself but its {@code "state_dict"} or {@code "model"} entry (tried in that order) is a dict
 * that does, that inner dict is taken instead, with its own names (no prefix): the layout of training
 * checkpoints such as {@code {"epoch": 3, "state_dict": {...}}}. Several names may share one storage
 * (tied weights); storage offsets are fine.
 *
 * <p><b>Bytes.</b> Storages that are stored uncompressed (always, in files torch writes) are read
 * zero-copy: {@link #bytes} maps the tensor's bytes from the file, and {@link TensorInfo#offset()} is
 * their file offset. A compressed zip entry is inflated into memory on open, and a non-contiguous
 * tensor (strides not in C order, e.g. a saved transpose) is copied into C order on each {@link #bytes}
 * call; for those {@link TensorInfo#offset()} is {@code -1}. The storage's device ({@code cuda:0}...) is
 * ignored: the bytes on disk are the same.
 *
 * <p>Everything is validated on open (archive structure, pickle, every tensor's dtype, storage and
 * extent), so a bad file fails at once with a message naming the file and, where known, the tensor.
 * {@code data.pkl} is CRC-checked; the storages are not (that would read the whole file on open), as
 * with safetensors.
 */
public final class TorchCheckpoint implements WeightSource {

  /** The on-disk format of a checkpoint. */
  public enum Format {
    /** torch ≥ 1.6 zip archive. */
    ZIP,
    /** pre-1.6 (or {@code _use_new_zipfile_serialization=False}) sequence of pickles and raw storages. */
    LEGACY
  }

  /** The legacy format's first pickle, {@code 0x1950a86a20f9469cfc6c}. */
  static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
  static final long LEGACY_PROTOCOL = 1001;

  /**
   * The largest {@code data.pkl} read (it is read into memory): a state dict's pickle holds names and shapes,
   * a few hundred bytes a tensor (Mistral-7B: about 30 KB); 256 MiB is far above any real one.
   */
  static final long MAX_PICKLE_BYTES = 1L << 28;

  /**
   * A strided view that reads more bytes than its storage holds (stride 0, overlapping rows: an
   * {@code expand()}ed tensor) is copied out in full on reading; above this size it is refused on open.
   */
  static final long MAX_EXPANDED_VIEW_BYTES = 1L << 24;

  /** Where one storage's bytes are: a file offset, or an in-memory copy (inflated zip entry). */
  private record Storage(String key, long fileOffset, byte[] heap, long byteSize) {}

  /** One tensor: its public info and where its elements lie in its storage. */
  private record Tensor(TensorInfo info, Storage storage, long byteStart, long[] strides, boolean contiguous) {}

  /** A storage as the pickle refers to it (persistent id). */
  record StorageRef(String key, Global type, long numel, long viewOffset, long viewNumel) {}

  /** A tensor as {@code _rebuild_tensor*} describes it; {@code dtype} is set only by {@code _rebuild_tensor_v3}. */
  record TensorRef(StorageRef storage, long offset, long[] size, long[] stride, Global dtype) {}

  private final Path file;
  private final FileChannel channel;
  private final Format format;
  private final Map<String, Tensor> tensors;
  /** {tensor, its C-order copy}: the last non-contiguous tensor materialised. */
  private volatile Object[] lastMaterialized;

  private TorchCheckpoint(Path file, FileChannel channel, Format format, Map<String, Tensor> tensors) {
    this.file = file;
    this.channel = channel;
    this.format = format;
    this.tensors = tensors;
  }

  /** Opens and validates a {@code torch.save} file (zip or legacy format). */
  public static TorchCheckpoint open(Path file) throws IOException {
    FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
    try {
      long size = ch.size();
      ByteBuffer head = ZipDirectory.read(ch, 0, (int) Math.min(size, 512));
      if (size >= 4 && head.getInt(0) == 0x04034b50) {
        return openZip(file, ch);
      }
      if (size >= 2 && (head.get(0) & 0xff) == 0x80) {
        return openLegacy(file, ch);
      }
      if (size >= 262 && new String(head.array(), 257, 5, StandardCharsets.ISO_8859_1).equals("ustar")) {
        throw new ModelFormatException(file + ": a tar archive: the torch.save format of PyTorch < 0.4 is not"
            + " supported; load it with torch and torch.save it again (or save it as safetensors)");
      }
      throw new ModelFormatException(file + ": not a PyTorch checkpoint (" + size + " bytes; neither a zip"
          + " archive nor a legacy torch.save pickle)");
    } catch (IOException | RuntimeException e) {
      ch.close();
      if (e instanceof java.io.EOFException) {
        throw new ModelFormatException(file + ": unexpected end of file (truncated?)", e);
      }
      throw e;
    }
  }

  // ---------------------------------------------------------------- zip format

  private static TorchCheckpoint openZip(Path file, FileChannel ch) throws IOException {
    ZipDirectory zip = ZipDirectory.read(file, ch);
    Map<String, ZipDirectory.Entry> entries = zip.entries();
    String prefix = null;
    for (String name : entries.keySet()) {
      int slash = name.indexOf('/');
      if (slash > 0 && name.substring(slash + 1).equals("data.pkl")) {
        prefix = name.substring(0, slash + 1);
        break;
      }
    }
    if (prefix == null) {
      throw new ModelFormatException(file + ": zip archive has no <archive>/data.pkl: not a torch.save checkpoint"
          + " (entries: " + entries.keySet().stream().limit(8).collect(Collectors.joining(", "))
          + (entries.size() > 8 ? ", ..." : "") + ")");
    }
    ZipDirectory.Entry byteorder = entries.get(prefix + "byteorder");
    if (byteorder != null) {
      String order = new String(zip.readEntry(ch, byteorder), StandardCharsets.US_ASCII).trim();
      if (!order.equals("little")) {
        throw new ModelFormatException(file + ": byteorder is '" + order + "': only little-endian checkpoints"
            + " are supported (load and re-save it on a little-endian machine)");
      }
    }
    String archive = prefix;
    boolean torchScript = entries.containsKey(prefix + "constants.pkl")
        || entries.keySet().stream().anyMatch(n -> n.startsWith(archive + "code/"));
    ZipDirectory.Entry pklEntry = entries.get(prefix + "data.pkl");
    if (pklEntry.size() > MAX_PICKLE_BYTES) {
      throw new ModelFormatException(file + ": " + prefix + "data.pkl claims " + pklEntry.size() + " bytes, more than the "
          + MAX_PICKLE_BYTES + " a state dict's pickle can plausibly need (corrupt or not a state dict)");
    }
    byte[] pkl = zip.readEntry(ch, pklEntry);
    TorchHandler handler = new TorchHandler();
    Object root;
    try {
      root = RestrictedUnpickler.load(ByteBuffer.wrap(pkl), handler);
    } catch (PickleException e) {
      throw new ModelFormatException(file + ": " + prefix + "data.pkl: " + e.getMessage()
          + (torchScript ? " (this is a TorchScript archive, not a torch.save state dict)" : ""), e);
    }
    Map<String, TensorRef> refs = stateDict(file, root);
    Map<String, Storage> storages = new HashMap<>();
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, TensorRef> e : refs.entrySet()) {
      String key = e.getValue().storage().key();
      Storage s = storages.get(key);
      if (s == null) {
        ZipDirectory.Entry z = entries.get(prefix + "data/" + key);
        if (z == null) {
          throw new ModelFormatException(file + ": tensor '" + e.getKey() + "' uses storage '" + key
              + "', but the archive has no entry " + prefix + "data/" + key + " (truncated or corrupt)");
        }
        if (z.method() == ZipDirectory.STORED && (z.flags() & 1) == 0 && z.compressedSize() == z.size()) {
          s = new Storage(key, z.dataOffset(), null, z.size());
        } else {
          s = new Storage(key, -1, zip.readEntry(ch, z), z.size());
        }
        storages.put(key, s);
      }
      tensors.put(e.getKey(), resolve(file, e.getKey(), e.getValue(), s));
    }
    return new TorchCheckpoint(file, ch, Format.ZIP, Collections.unmodifiableMap(tensors));
  }

  // ---------------------------------------------------------------- legacy format

  private static TorchCheckpoint openLegacy(Path file, FileChannel ch) throws IOException {
    long size = ch.size();
    ByteBuffer buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, Math.min(size, Integer.MAX_VALUE))
        .order(ByteOrder.LITTLE_ENDIAN);
    TorchHandler plain = new TorchHandler();
    plain.plainValuesOnly = true;
    Object magic;
    try {
      magic = RestrictedUnpickler.load(buf, plain);
    } catch (PickleException e) {
      throw new ModelFormatException(file + ": not a PyTorch checkpoint (starts like a pickle, but " + e.getMessage()
          + ")", e);
    }
    if (!LEGACY_MAGIC.equals(magic)) {
      throw new ModelFormatException(file + ": a pickle, but not a torch.save checkpoint (no legacy magic number;"
          + " plain pickles are not read)");
    }
    TorchHandler handler = new TorchHandler();
    Map<String, TensorRef> refs;
    List<?> keys;
    try {
      Object protocol = RestrictedUnpickler.load(buf, plain);
      if (!Long.valueOf(LEGACY_PROTOCOL).equals(protocol)) {
        throw new ModelFormatException(file + ": legacy torch.save protocol " + protocol + " is not supported"
            + " (expected " + LEGACY_PROTOCOL + ")");
      }
      Object sysInfo = RestrictedUnpickler.load(buf, plain);
      if (!(sysInfo instanceof Map<?, ?> info) || !Boolean.TRUE.equals(info.get("little_endian"))) {
        throw new ModelFormatException(file + ": legacy checkpoint written on a big-endian machine (or without"
            + " sys_info): not supported; load and re-save it with torch.save on a little-endian machine");
      }
      Object root = RestrictedUnpickler.load(buf, handler);
      refs = stateDict(file, root);
      Object keyList = RestrictedUnpickler.load(buf, plain);
      if (!(keyList instanceof List<?> l)) {
        throw new ModelFormatException(file + ": legacy checkpoint: storage key list is a "
            + RestrictedUnpickler.typeName(keyList) + ", not a list (corrupt)");
      }
      keys = l;
    } catch (PickleException e) {
      throw new ModelFormatException(file + ": legacy torch.save pickle: " + e.getMessage(), e);
    }
    // the raw storages follow the last pickle, in the order of the key list
    long pos = buf.position();
    Map<String, Storage> storages = new HashMap<>();
    ByteBuffer count = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    for (Object k : keys) {
      String key = String.valueOf(k);
      StorageRef ref = handler.storages.get(key);
      if (ref == null) {
        throw new ModelFormatException(file + ": legacy checkpoint lists storage '" + key
            + "', which the pickle never refers to (corrupt)");
      }
      if (pos + 8 > size) {
        throw new ModelFormatException(file + ": storage '" + key + "' starts beyond the end of the file"
            + " (truncated)");
      }
      count.clear();
      while (count.hasRemaining()) {
        if (ch.read(count, pos + count.position()) < 0) {
          throw new ModelFormatException(file + ": storage '" + key + "' is truncated");
        }
      }
      long n = count.getLong(0);
      long bytes;
      try {
        bytes = Math.multiplyExact(n, (long) storageElementSize(ref.type()));
      } catch (ArithmeticException ex) {
        bytes = -1;
      }
      if (n < 0 || bytes < 0 || bytes > size - pos - 8) {
        throw new ModelFormatException(file + ": storage '" + key + "' declares " + n + " elements at offset " + pos
            + ", beyond the end of the file (" + size + " bytes): truncated or corrupt");
      }
      storages.put(key, new Storage(key, pos + 8, null, bytes));
      pos += 8 + bytes;
    }
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, TensorRef> e : refs.entrySet()) {
      String key = e.getValue().storage().key();
      Storage s = storages.get(key);
      if (s == null) {
        throw new ModelFormatException(file + ": tensor '" + e.getKey() + "' uses storage '" + key
            + "', which is not in the checkpoint's storage list (truncated or corrupt)");
      }
      tensors.put(e.getKey(), resolve(file, e.getKey(), e.getValue(), s));
    }
    return new TorchCheckpoint(file, ch, Format.LEGACY, Collections.unmodifiableMap(tensors));
  }

  // ---------------------------------------------------------------- state dict and tensors

  /** The tensors of the unpickled top object (see the class comment for nested checkpoints). */
  private static Map<String, TensorRef> stateDict(Path file, Object root) {
    if (!(root instanceof Map<?, ?> top)) {
      throw new ModelFormatException(file + ": the checkpoint holds a " + RestrictedUnpickler.typeName(root)
          + ", not a state dict (a dict of tensors)");
    }
    Map<String, TensorRef> found = tensorsOf(top);
    if (found.isEmpty()) {
      for (String inner : new String[] {"state_dict", "model"}) {
        if (top.get(inner) instanceof Map<?, ?> m && !tensorsOf(m).isEmpty()) {
          return tensorsOf(m);
        }
      }
      if (!top.isEmpty()) {
        throw new ModelFormatException(file + ": no tensors found in the checkpoint (top-level keys: "
            + top.keySet().stream().limit(10).map(String::valueOf).collect(Collectors.joining(", "))
            + "); expected a state dict, or a dict with a 'state_dict' or 'model' entry holding one");
      }
    }
    return found;
  }

  private static Map<String, TensorRef> tensorsOf(Map<?, ?> m) {
    Map<String, TensorRef> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : m.entrySet()) {
      if (e.getKey() instanceof String name && e.getValue() instanceof TensorRef t) {
        out.put(name, t);
      }
    }
    return out;
  }

  /** Checks a tensor against its storage: dtype, shape, strides and extent. */
  private static Tensor resolve(Path file, String name, TensorRef t, Storage s) {
    String where = file + ": tensor '" + name + "'";
    StorageRef ref = t.storage();
    DType dtype;
    if (t.dtype() != null) {
      dtype = TORCH_DTYPES.get(t.dtype().name());
      if (dtype == null) {
        throw new ModelFormatException(where + " has dtype " + t.dtype() + ", which is not supported (supported: "
            + supportedDTypes() + ")");
      }
    } else {
      dtype = STORAGE_DTYPES.get(ref.type().name());
      if (dtype == null) {
        throw new ModelFormatException(where + " uses storage type " + ref.type() + ", whose dtype is not"
            + " supported (supported: " + supportedDTypes() + ")");
      }
    }
    int es = dtype.byteSize();
    try {
      int storageElem = storageElementSize(ref.type());
      long declared = Math.multiplyExact(ref.numel(), (long) storageElem);
      if (s.byteSize() < declared) {
        throw new ModelFormatException(where + ": storage '" + ref.key() + "' holds " + s.byteSize()
            + " bytes, but the pickle says " + ref.numel() + " elements (" + declared + " bytes): truncated or corrupt");
      }
      long base = Math.multiplyExact(ref.viewOffset(), (long) storageElem);
      long limit = ref.viewNumel() < 0 ? declared : Math.addExact(base, Math.multiplyExact(ref.viewNumel(), (long) storageElem));
      if (base < 0 || limit > declared) {
        throw new ModelFormatException(where + ": storage view [" + base + ", " + limit + ") lies outside storage '"
            + ref.key() + "' (" + declared + " bytes)");
      }
      long[] size = t.size();
      long[] stride = t.stride();
      if (size.length != stride.length) {
        throw new ModelFormatException(where + " has " + size.length + " dimensions but " + stride.length + " strides");
      }
      long numel = 1;
      long maxIndex = t.offset();
      boolean contiguous = true;
      long expectedStride = 1;
      for (int d = size.length - 1; d >= 0; d--) {
        if (size[d] < 0 || stride[d] < 0) {
          throw new ModelFormatException(where + " has a negative size or stride: shape " + Arrays.toString(size)
              + ", strides " + Arrays.toString(stride));
        }
        numel = Math.multiplyExact(numel, size[d]);
        if (size[d] > 0) {
          maxIndex = Math.addExact(maxIndex, Math.multiplyExact(size[d] - 1, stride[d]));
        }
        if (size[d] != 1 && stride[d] != expectedStride) {
          contiguous = false;
        }
        expectedStride = Math.multiplyExact(expectedStride, Math.max(size[d], 1));
      }
      if (t.offset() < 0) {
        throw new ModelFormatException(where + " has a negative storage offset " + t.offset());
      }
      long byteStart = Math.addExact(base, Math.multiplyExact(t.offset(), (long) es));
      if (numel == 0) {
        contiguous = true;
      } else {
        long end = Math.addExact(base, Math.multiplyExact(maxIndex + 1, (long) es));
        if (end > limit) {
          throw new ModelFormatException(where + " (" + dtype + " " + Arrays.toString(size) + ", storage offset "
              + t.offset() + ", strides " + Arrays.toString(stride) + ") needs bytes [" + byteStart + ", " + end
              + ") of storage '" + ref.key() + "', which holds only " + (limit - base) + " bytes");
        }
      }
      long byteLength = Math.multiplyExact(numel, (long) es);
      if (!contiguous && byteLength > limit - base && byteLength > MAX_EXPANDED_VIEW_BYTES) {
        throw new ModelFormatException(where + " (" + dtype + " " + Arrays.toString(size) + ", strides "
            + Arrays.toString(stride) + ") is a strided view of " + byteLength + " bytes over a storage of "
            + (limit - base) + " bytes (stride 0 or overlapping): refused above " + MAX_EXPANDED_VIEW_BYTES
            + " bytes; save it with .contiguous() (or .clone())");
      }
      long offset = contiguous && s.heap() == null ? s.fileOffset() + byteStart : -1;
      TensorInfo info = new TensorInfo(name, dtype, size.clone(), file, offset, byteLength);
      return new Tensor(info, s, byteStart, stride.clone(), contiguous);
    } catch (ArithmeticException e) {
      throw new ModelFormatException(where + " has an impossible shape, stride or offset (overflow): shape "
          + Arrays.toString(t.size()) + ", strides " + Arrays.toString(t.stride()) + ", offset " + t.offset(), e);
    }
  }

  private static String supportedDTypes() {
    return TORCH_DTYPES.entrySet().stream()
        .filter(e -> e.getValue() != null && e.getKey().equals(canonical(e.getValue())))
        .map(Map.Entry::getKey).collect(Collectors.joining(", "));
  }

  private static String canonical(DType d) {
    return switch (d) {
      case F64 -> "float64";
      case F32 -> "float32";
      case F16 -> "float16";
      case BF16 -> "bfloat16";
      case I64 -> "int64";
      case I32 -> "int32";
      case I16 -> "int16";
      case I8 -> "int8";
      case U8 -> "uint8";
      case BOOL -> "bool";
    };
  }

  // ---------------------------------------------------------------- WeightSource

  /** Whether the file was in the zip or the legacy format. */
  public Format format() {
    return format;
  }

  @Override
  public Path location() {
    return file;
  }

  @Override
  public List<String> names() {
    return List.copyOf(tensors.keySet());
  }

  @Override
  public boolean contains(String name) {
    return tensors.containsKey(name);
  }

  private Tensor tensor(String name) {
    Tensor t = tensors.get(name);
    if (t == null) {
      throw new ModelFormatException(file + ": no tensor named '" + name + "'");
    }
    return t;
  }

  @Override
  public TensorInfo info(String name) {
    return tensor(name).info();
  }

  /** Whether the tensor's bytes lie in C order in its storage (and so are read without a copy). */
  public boolean isContiguous(String name) {
    return tensor(name).contiguous();
  }

  /** The key of the storage a tensor's bytes are in (tensors with tied weights share one). */
  public String storageKey(String name) {
    return tensor(name).storage().key();
  }

  @Override
  public ByteBuffer bytes(String name) {
    TensorInfo t = info(name);
    if (t.byteLength() > Integer.MAX_VALUE) {
      throw new ModelFormatException(file + ": tensor '" + name + "' is " + t.byteLength()
          + " bytes, more than one buffer can map; read it in parts with bytes(name, from, length)");
    }
    return bytes(name, 0, t.byteLength());
  }

  /** A read-only little-endian view of {@code length} bytes of the tensor (in C order) from byte {@code from}. */
  @Override
  public ByteBuffer bytes(String name, long from, long length) {
    Tensor t = tensor(name);
    long total = t.info().byteLength();
    if (from < 0 || length < 0 || from + length > total) {
      throw new IndexOutOfBoundsException("bytes [" + from + ", " + (from + length) + ") of tensor '" + name
          + "' (" + total + " bytes)");
    }
    if (!t.contiguous()) {
      // the last copy is kept, so that chunked reads (WeightSource.loadFloat) copy a tensor only once
      Object[] last = lastMaterialized;
      ByteBuffer all;
      if (last != null && last[0] == t) {
        all = (ByteBuffer) last[1];
      } else {
        all = materialize(t);
        lastMaterialized = new Object[] {t, all};
      }
      return all.slice(Math.toIntExact(from), Math.toIntExact(length)).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }
    return storageBytes(t, t.byteStart() + from, length);
  }

  private ByteBuffer storageBytes(Tensor t, long start, long length) {
    Storage s = t.storage();
    if (s.heap() != null) {
      return ByteBuffer.wrap(s.heap(), Math.toIntExact(start), Math.toIntExact(length)).slice()
          .asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }
    try {
      return channel.map(FileChannel.MapMode.READ_ONLY, s.fileOffset() + start, length).order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot map tensor '" + t.info().name() + "': " + e.getMessage(), e);
    }
  }

  /** Copies a strided tensor into C order. */
  private ByteBuffer materialize(Tensor t) {
    TensorInfo info = t.info();
    int es = info.dtype().byteSize();
    long[] size = info.shape();
    long[] stride = t.strides();
    if (info.byteLength() == 0) {
      return ByteBuffer.allocate(0);
    }
    long span = 0;
    for (int d = 0; d < size.length; d++) {
      span += (size[d] - 1) * stride[d];
    }
    long spanBytes = (span + 1) * es;
    if (info.byteLength() > Integer.MAX_VALUE - 8 || spanBytes > Integer.MAX_VALUE) {
      throw new ModelFormatException(file + ": tensor '" + info.name() + "' is not contiguous and too large ("
          + info.byteLength() + " bytes) to copy into one buffer");
    }
    ByteBuffer src = storageBytes(t, t.byteStart(), spanBytes);
    byte[] out = new byte[(int) info.byteLength()];
    int dims = size.length;
    long[] idx = new long[dims];
    long srcElem = 0;
    for (int i = 0, n = (int) (info.byteLength() / es); i < n; i++) {
      src.get((int) (srcElem * es), out, i * es, es);
      for (int d = dims - 1; d >= 0; d--) {
        idx[d]++;
        srcElem += stride[d];
        if (idx[d] < size[d]) {
          break;
        }
        srcElem -= idx[d] * stride[d];
        idx[d] = 0;
      }
    }
    return ByteBuffer.wrap(out);
  }

  @Override
  public void close() throws IOException {
    lastMaterialized = null;
    channel.close();
  }

  // ---------------------------------------------------------------- what data.pkl may name

  /** Storage classes → dtype; the known ones without a {@link DType} map to null (refused per tensor). */
  private static final Map<String, DType> STORAGE_DTYPES = new HashMap<>();
  private static final Map<String, Integer> STORAGE_SIZES = new HashMap<>();
  /** {@code torch.<name>} dtypes → DType; known ones without a {@link DType} map to null. */
  private static final Map<String, DType> TORCH_DTYPES = new LinkedHashMap<>();

  static {
    Object[][] storages = {
        {"FloatStorage", DType.F32, 4}, {"HalfStorage", DType.F16, 2}, {"BFloat16Storage", DType.BF16, 2},
        {"DoubleStorage", DType.F64, 8}, {"LongStorage", DType.I64, 8}, {"IntStorage", DType.I32, 4},
        {"ShortStorage", DType.I16, 2}, {"CharStorage", DType.I8, 1}, {"ByteStorage", DType.U8, 1},
        {"BoolStorage", DType.BOOL, 1}, {"ComplexFloatStorage", null, 8}, {"ComplexDoubleStorage", null, 16},
        {"QInt8Storage", null, 1}, {"QUInt8Storage", null, 1}, {"QInt32Storage", null, 4},
        {"QUInt4x2Storage", null, 1}, {"QUInt2x4Storage", null, 1},
        // untyped storages count bytes; a v2 tensor on one is uint8, as in torch.load
        {"UntypedStorage", DType.U8, 1},
    };
    for (Object[] s : storages) {
      STORAGE_DTYPES.put((String) s[0], (DType) s[1]);
      STORAGE_SIZES.put((String) s[0], (Integer) s[2]);
    }
    Object[][] dtypes = {
        {"float32", DType.F32}, {"float", DType.F32}, {"float16", DType.F16}, {"half", DType.F16},
        {"bfloat16", DType.BF16}, {"float64", DType.F64}, {"double", DType.F64}, {"int64", DType.I64},
        {"long", DType.I64}, {"int32", DType.I32}, {"int", DType.I32}, {"int16", DType.I16}, {"short", DType.I16},
        {"int8", DType.I8}, {"uint8", DType.U8}, {"bool", DType.BOOL},
    };
    for (Object[] d : dtypes) {
      TORCH_DTYPES.put((String) d[0], (DType) d[1]);
    }
    for (String unsupported : new String[] {"uint16", "uint32", "uint64", "complex32", "complex64", "complex128",
        "cfloat", "cdouble", "chalf", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
        "float8_e8m0fnu", "float4_e2m1fn_x2", "qint8", "quint8", "qint32", "quint4x2", "quint2x4", "bits8",
        "bits16", "bits1x8", "bits2x4", "bits4x2", "int1", "int2", "int3", "int4", "int5", "int6", "int7",
        "uint1", "uint2", "uint3", "uint4", "uint5", "uint6", "uint7"}) {
      TORCH_DTYPES.put(unsupported, null);
    }
  }

  private static int storageElementSize(Global type) {
    Integer n = STORAGE_SIZES.get(type.name());
    if (n == null) {
      throw new ModelFormatException("unknown storage type " + type);
    }
    return n;
  }

  private static final Set<String> REBUILD = Set.of("_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3",
      "_rebuild_parameter", "_rebuild_parameter_with_state");

  /** Accepts only the globals a state dict needs; REDUCE on them builds records, never runs anything. */
  static final class TorchHandler implements RestrictedUnpickler.Handler {
    /** For the legacy format's header pickles: no globals and no persistent ids at all. */
    boolean plainValuesOnly;
    /** Storages seen by persistent id, by root key. */
    final Map<String, StorageRef> storages = new HashMap<>();

    @Override
    public Object global(String module, String name, int offset) {
      boolean ok = !plainValuesOnly && switch (module) {
        case "collections" -> name.equals("OrderedDict");
        case "torch._utils" -> REBUILD.contains(name);
        case "torch._tensor" -> name.equals("_rebuild_from_type_v2");
        case "torch" -> STORAGE_DTYPES.containsKey(name) || TORCH_DTYPES.containsKey(name) || name.equals("Tensor");
        case "torch.storage" -> name.equals("UntypedStorage");
        case "torch.nn.parameter" -> name.equals("Parameter");
        default -> false;
      };
      if (!ok) {
        throw new PickleException("refused global '" + module + "." + name + "' (asked for at byte " + offset
            + "): only collections.OrderedDict and PyTorch's tensor, storage and dtype names are allowed;"
            + " nothing was executed" + (picklesAModel(module)
                ? " (the file seems to pickle a whole model object, torch.save(model): load it in Python and"
                    + " save model.state_dict() instead)" : ""));
      }
      return new Global(module, name);
    }

    private static boolean picklesAModel(String module) {
      return module.startsWith("torch.nn.") || module.startsWith("transformers.") || module.equals("__main__");
    }

    @Override
    public Object reduce(Object callable, Tuple args, int offset) {
      if (!(callable instanceof Global g)) {
        throw new PickleException("REDUCE on a " + RestrictedUnpickler.typeName(callable) + ", not a function, at byte "
            + offset);
      }
      String what = g + " at byte " + offset;
      switch (g.toString()) {
        case "collections.OrderedDict" -> {
          Map<Object, Object> d = new LinkedHashMap<>();
          if (args.size() == 1 && args.get(0) instanceof List<?> pairs) {
            for (Object p : pairs) {
              if (!(p instanceof Tuple t) || t.size() != 2) {
                throw new PickleException("malformed items for " + what);
              }
              d.put(RestrictedUnpickler.hashable(t.get(0), what), t.get(1));
            }
          } else if (args.size() != 0) {
            throw new PickleException("unexpected arguments for " + what);
          }
          return d;
        }
        case "torch._utils._rebuild_tensor" -> {
          check(args.size() == 4, what);
          return tensorRef(args, null, what);
        }
        case "torch._utils._rebuild_tensor_v2" -> {
          check(args.size() == 6 || args.size() == 7, what);
          return tensorRef(args, null, what);
        }
        case "torch._utils._rebuild_tensor_v3" -> {
          check(args.size() == 7 || args.size() == 8, what);
          check(args.get(6) instanceof Global d && d.module().equals("torch") && TORCH_DTYPES.containsKey(d.name()),
              what);
          return tensorRef(args, (Global) args.get(6), what);
        }
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
          check(args.size() == (g.name().endsWith("state") ? 4 : 3) && args.get(0) instanceof TensorRef, what);
          return args.get(0);
        }
        case "torch._tensor._rebuild_from_type_v2" -> {
          // (func, type, args, state): only plain tensors and parameters
          check(args.size() == 4 && args.get(1) instanceof Global type
              && (type.toString().equals("torch.Tensor") || type.toString().equals("torch.nn.parameter.Parameter"))
              && args.get(2) instanceof Tuple, what);
          return reduce(args.get(0), (Tuple) args.get(2), offset);
        }
        default -> throw new PickleException(g + " cannot be called (REDUCE at byte " + offset + ")");
      }
    }

    private static void check(boolean ok, String what) {
      if (!ok) {
        throw new PickleException("unexpected arguments for " + what);
      }
    }

    private static TensorRef tensorRef(Tuple args, Global dtype, String what) {
      check(args.get(0) instanceof StorageRef && args.get(1) instanceof Long, what);
      return new TensorRef((StorageRef) args.get(0), (Long) args.get(1), longs(args.get(2), what),
          longs(args.get(3), what), dtype);
    }

    private static long[] longs(Object o, String what) {
      if (!(o instanceof Tuple t)) {
        throw new PickleException("unexpected arguments for " + what + ": size/stride is a "
            + RestrictedUnpickler.typeName(o) + ", not a tuple");
      }
      long[] out = new long[t.size()];
      for (int i = 0; i < out.length; i++) {
        if (!(t.get(i) instanceof Long v)) {
          throw new PickleException("unexpected arguments for " + what + ": size/stride holds a "
              + RestrictedUnpickler.typeName(t.get(i)));
        }
        out[i] = v;
      }
      return out;
    }

    @Override
    public Object newObject(Object cls, Tuple args, int offset) {
      if (cls instanceof Global g && g.toString().equals("collections.OrderedDict")) {
        return new LinkedHashMap<>();
      }
      throw new PickleException(RestrictedUnpickler.typeName(cls) + " cannot be instantiated (NEWOBJ at byte "
          + offset + ")");
    }

    @Override
    public Object persistentLoad(Object pid, int offset) {
      if (plainValuesOnly) {
        throw new PickleException("unexpected persistent id at byte " + offset);
      }
      String at = " (BINPERSID at byte " + offset + ")";
      if (pid instanceof Tuple t && t.size() > 0 && "module".equals(t.get(0))) {
        throw new PickleException("the checkpoint pickles a whole nn.Module (torch.save(model)); only state dicts"
            + " are supported: save model.state_dict() instead" + at);
      }
      if (!(pid instanceof Tuple t) || (t.size() != 5 && t.size() != 6) || !"storage".equals(t.get(0))
          || !(t.get(1) instanceof Global type) || !STORAGE_SIZES.containsKey(type.name())
          || !(t.get(2) instanceof String || t.get(2) instanceof Long) || !(t.get(4) instanceof Long numel)
          || numel < 0) {
        throw new PickleException("malformed storage persistent id " + RestrictedUnpickler.describe(pid) + at);
      }
      String key = String.valueOf(t.get(2));
      long viewOffset = 0;
      long viewNumel = -1;
      if (t.size() == 6 && t.get(5) != null) {
        // legacy storage view: (view_key, offset, size) in elements of the root storage
        if (!(t.get(5) instanceof Tuple v) || v.size() != 3 || !(v.get(1) instanceof Long o)
            || !(v.get(2) instanceof Long n) || o < 0 || n < 0) {
          throw new PickleException("malformed storage view " + RestrictedUnpickler.describe(t.get(5)) + at);
        }
        viewOffset = o;
        viewNumel = n;
      }
      StorageRef root = storages.get(key);
      if (root == null) {
        storages.put(key, new StorageRef(key, type, numel, 0, -1));
      } else if (!root.type().name().equals(type.name()) || root.numel() != numel) {
        throw new PickleException("storage '" + key + "' is referred to as both " + root.type() + "[" + root.numel()
            + "] and " + type + "[" + numel + "]" + at);
      }
      return new StorageRef(key, type, numel, viewOffset, viewNumel);
    }
  }
}
