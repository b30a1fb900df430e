package org.promptrecovery4j.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads the fixtures of tools/reference/torch_bin_fixtures.py and compares with torch's own values. */
class TorchCheckpointTest {

  static final Path FIXTURES = Path.of(System.getProperty("pr4j.fixtures", "../fixtures"), "torch-bin");

  @TempDir Path tmp;

  /** Asserts that {@code source} holds exactly the tensors of an expected-values JSON, in order. */
  static void assertMatchesExpected(WeightSource source, Path expectedJson) throws IOException {
    JsonNode expected = new ObjectMapper().readTree(expectedJson.toFile());
    List<String> names = new ArrayList<>();
    expected.fieldNames().forEachRemaining(names::add);
    assertThat(source.names()).containsExactlyElementsOf(names);
    for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String name = e.getKey();
      JsonNode t = e.getValue();
      TensorInfo info = source.info(name);
      assertThat(info.dtype().name()).as(name).isEqualTo(t.get("dtype").asText());
      long[] shape = new long[t.get("shape").size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = t.get("shape").get(i).asLong();
      }
      assertThat(info.shape()).as(name).containsExactly(shape);
      assertThat(info.byteLength()).as(name).isEqualTo(info.numel() * info.dtype().byteSize());
      JsonNode values = t.get("values");
      assertThat(info.numel()).as(name).isEqualTo(values.size());
      ByteBuffer bytes = source.bytes(name);
      assertThat(bytes.remaining()).as(name).isEqualTo(info.byteLength());
      if (info.dtype().isFloatingPoint()) {
        float[] actual = source.readFloats(name);
        for (int i = 0; i < actual.length; i++) {
          assertThat(actual[i]).as(name + "[" + i + "]").isEqualTo((float) values.get(i).asDouble());
        }
      } else {
        long[] actual = DTypeConversions.toLong(info.dtype(), bytes.order(ByteOrder.LITTLE_ENDIAN), info.numel());
        for (int i = 0; i < actual.length; i++) {
          assertThat(actual[i]).as(name + "[" + i + "]").isEqualTo(values.get(i).asLong());
        }
      }
    }
  }

  @Test
  void mixedDtypesTiedWeightsAndViewsMatchTorch() throws IOException {
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(FIXTURES.resolve("mixed.bin"))) {
      assertThat(ckpt.format()).isEqualTo(TorchCheckpoint.Format.ZIP);
      assertMatchesExpected(ckpt, FIXTURES.resolve("mixed.expected.json"));
      // non-tensor values ("step", "note") are skipped
      assertThat(ckpt.contains("step")).isFalse();
      assertThat(ckpt.contains("note")).isFalse();

      JsonNode expected = new ObjectMapper().readTree(FIXTURES.resolve("mixed.expected.json").toFile());
      Map<Integer, String> storageOfGroup = new HashMap<>();
      for (String name : ckpt.names()) {
        JsonNode t = expected.get(name);
        assertThat(ckpt.isContiguous(name)).as(name).isEqualTo(t.get("contiguous").asBoolean());
        // names share a storage exactly when torch's tensors did
        String previous = storageOfGroup.putIfAbsent(t.get("storage_group").asInt(), ckpt.storageKey(name));
        if (previous != null) {
          assertThat(ckpt.storageKey(name)).as(name).isEqualTo(previous);
        }
      }
      assertThat(storageOfGroup.values()).doesNotHaveDuplicates();

      // tied weights: one storage, same bytes in the file
      TensorInfo emb = ckpt.info("embeddings.weight");
      TensorInfo head = ckpt.info("lm_head.weight");
      assertThat(head.offset()).isEqualTo(emb.offset());
      assertThat(emb.offset()).isPositive();
      // views with a storage offset lie inside their base storage
      long base = ckpt.info("base").offset();
      assertThat(ckpt.info("base.row2").offset()).isEqualTo(base + 2 * 3 * 4);
      assertThat(ckpt.info("base.rows1to2").offset()).isEqualTo(base + 1 * 3 * 4);
      // a transpose is copied into C order; it has no file offset
      assertThat(ckpt.isContiguous("transposed")).isFalse();
      assertThat(ckpt.info("transposed").offset()).isEqualTo(-1);
      assertThat(ckpt.readFloats("transposed")).containsExactly(0, 3, 1, 4, 2, 5);
      // scalar and empty tensors
      assertThat(ckpt.info("scalar").shape()).isEmpty();
      assertThat(ckpt.readFloats("scalar")).containsExactly(3.5f);
      assertThat(ckpt.bytes("empty").remaining()).isZero();
    }
  }

  @Test
  void pickleProtocol4SaveReadsTheSame() throws IOException {
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(FIXTURES.resolve("mixed-protocol4.bin"))) {
      assertMatchesExpected(ckpt, FIXTURES.resolve("mixed.expected.json"));
      assertThat(ckpt.storageKey("lm_head.weight")).isEqualTo(ckpt.storageKey("embeddings.weight"));
    }
  }

  @Test
  void otherBinFormatsAreNotMistakenForTorch() {
    // a llama2.c checkpoint is also called .bin (reference material beside the clone; skipped without it)
    Path llama2c = Path.of(System.getProperty("pr4j.shared", "../shared"), "conformance/models/stories260K/stories260K.bin");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(llama2c), "no " + llama2c);
    assertThatThrownBy(() -> Checkpoints.open(llama2c)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("stories260K.bin").hasMessageContaining("not a PyTorch checkpoint");
  }

  @Test
  void contiguousTensorsAreZeroCopyReadOnlyViewsOfTheFile() throws IOException {
    Path file = FIXTURES.resolve("mixed.bin");
    byte[] raw = Files.readAllBytes(file);
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
      for (String name : ckpt.names()) {
        TensorInfo t = ckpt.info(name);
        ByteBuffer b = ckpt.bytes(name);
        assertThat(b.isReadOnly()).as(name).isTrue();
        if (ckpt.isContiguous(name)) {
          assertThat(b.isDirect()).as(name).isTrue();
          byte[] expected = java.util.Arrays.copyOfRange(raw, (int) t.offset(), (int) (t.offset() + t.byteLength()));
          byte[] actual = new byte[b.remaining()];
          b.get(actual);
          assertThat(actual).as(name).isEqualTo(expected);
        }
      }
      // torch aligns storages to 64 bytes: the embeddings start on a 64-byte boundary
      assertThat(ckpt.info("embeddings.weight").offset() % 64).isZero();
      // partial reads
      ByteBuffer part = ckpt.bytes("f32", 4, 8).order(ByteOrder.LITTLE_ENDIAN);
      assertThat(part.getFloat(0)).isEqualTo(ckpt.readFloats("f32")[1]);
      assertThat(ckpt.bytes("transposed", 4, 4).order(ByteOrder.LITTLE_ENDIAN).getFloat(0)).isEqualTo(3f);
      assertThatThrownBy(() -> ckpt.bytes("f32", 20, 8)).isInstanceOf(IndexOutOfBoundsException.class);
      assertThatThrownBy(() -> ckpt.info("nope")).isInstanceOf(ModelFormatException.class)
          .hasMessageContaining("mixed.bin").hasMessageContaining("'nope'");
    }
  }

  @Test
  void nd4jLoadingOfTorchTensors() throws IOException {
    try (WeightSource ckpt = Checkpoints.open(FIXTURES.resolve("mixed.bin"))) {
      assertThat(ckpt).isInstanceOf(TorchCheckpoint.class);
      var f16 = ckpt.loadFloat("f16");
      assertThat(f16.shape()).containsExactly(3L, 2L);
      assertThat(f16.getFloat(0, 0)).isEqualTo(ckpt.readFloats("f16")[0]);
      var i64 = ckpt.load("i64");
      assertThat(i64.getLong(1, 1)).isEqualTo(-(1L << 62));
      var t = ckpt.loadFloat("transposed");
      assertThat(t.getFloat(2, 1)).isEqualTo(5f);
      // parameterCount counts floating-point tensors only (tied names count twice, as in the state dict)
      assertThat(ckpt.parameterCount()).isPositive();
    }
  }

  @Test
  void trainingCheckpointTakesTheInnerStateDict() throws IOException {
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(FIXTURES.resolve("nested.bin"))) {
      assertMatchesExpected(ckpt, FIXTURES.resolve("nested.expected.json"));
      assertThat(ckpt.names()).containsExactly("layer.weight", "layer.bias");
    }
  }

  @Test
  void legacyFormatMatchesTorch() throws IOException {
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(FIXTURES.resolve("legacy.bin"))) {
      assertThat(ckpt.format()).isEqualTo(TorchCheckpoint.Format.LEGACY);
      assertMatchesExpected(ckpt, FIXTURES.resolve("legacy.expected.json"));
      assertThat(ckpt.storageKey("tied")).isEqualTo(ckpt.storageKey("b"));
      assertThat(ckpt.info("a.row1").offset()).isEqualTo(ckpt.info("a").offset() + 3 * 4);
    }
  }

  /** {@code {'w': tensor of n floats on view ('view', 1, 2) of the 4-float storage 'k'}}, legacy persistent ids. */
  private static byte[] legacyViewPickle(long n) {
    return new TorchFiles.Pickle().proto(2).op('}').mark().str("w")
        .global("torch._utils", "_rebuild_tensor_v2").mark()
        .mark().str("storage").global("torch", "FloatStorage").str("k").str("cpu").integer(4)
        .mark().str("view").integer(1).integer(2).tuple().tuple().op('Q')
        .integer(0).ints(n).ints(1).op(0x89).global("collections", "OrderedDict").op(')', 'R').tuple().op('R')
        .op('u', '.').bytes();
  }

  @Test
  void legacyStorageViewsAndRefusals() throws IOException {
    // ('storage', torch.FloatStorage, 'k', 'cpu', 4, ('view', 1, 2)): elements [1, 3) of storage k
    Map<String, byte[]> storages = Map.of("k", TorchFiles.floats(1, 2, 3, 4));
    Path file = TorchFiles.legacy(tmp.resolve("view.bin"), legacyViewPickle(2), storages, 4);
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
      assertThat(ckpt.format()).isEqualTo(TorchCheckpoint.Format.LEGACY);
      assertThat(ckpt.readFloats("w")).containsExactly(2, 3);
    }
    // a view of 2 elements cannot hold a tensor of 3
    Path file2 = TorchFiles.legacy(tmp.resolve("view-big.bin"), legacyViewPickle(3), storages, 4);
    assertThatThrownBy(() -> TorchCheckpoint.open(file2)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("tensor 'w'").hasMessageContaining("which holds only 8 bytes");
    // a pickled module source ('module', ...) as old torch.save(model) wrote it
    byte[] module = new TorchFiles.Pickle().proto(2).mark().str("module").str("Net").str("net.py").str("src")
        .tuple().op('Q', '.').bytes();
    Path file3 = TorchFiles.legacy(tmp.resolve("module.bin"), module, Map.of(), 4);
    assertThatThrownBy(() -> TorchCheckpoint.open(file3)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("module.bin").hasMessageContaining("save model.state_dict() instead");
    // a key list naming a storage the pickle never used
    Path file4 = TorchFiles.legacy(tmp.resolve("extra.bin"), legacyViewPickle(2),
        new java.util.LinkedHashMap<>(Map.of("k", TorchFiles.floats(1, 2, 3, 4), "zz", new byte[4])), 4);
    assertThatThrownBy(() -> TorchCheckpoint.open(file4)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("lists storage 'zz', which the pickle never refers to");
  }

  @Test
  void shardedBinIndexOpensThroughCheckpoints() throws IOException {
    Path index = FIXTURES.resolve("sharded/pytorch_model.bin.index.json");
    try (WeightSource ckpt = Checkpoints.open(index)) {
      assertThat(ckpt).isInstanceOf(ShardedCheckpoint.class);
      assertMatchesExpected(ckpt, FIXTURES.resolve("sharded.expected.json"));
    }
    try (WeightSource folder = Checkpoints.open(FIXTURES.resolve("sharded"))) {
      assertThat(folder.names()).hasSize(4);
    }
  }

  @Test
  void realHuggingFaceBinEqualsItsSafetensors() throws IOException {
    Path dir = FIXTURES.resolve("tiny-deberta");
    try (TorchCheckpoint bin = TorchCheckpoint.open(dir.resolve("pytorch_model.bin"));
        SafetensorsFile st = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
      assertThat(bin.names()).hasSize(25).containsExactlyInAnyOrderElementsOf(st.names());
      assertThat(bin.names()).contains("embeddings.word_embeddings.weight", "encoder.rel_embeddings.weight");
      for (String name : bin.names()) {
        assertSameTensor(bin, st, name);
      }
    }
  }

  static void assertSameTensor(WeightSource a, WeightSource b, String name) {
    TensorInfo x = a.info(name);
    TensorInfo y = b.info(name);
    assertThat(x.dtype()).as(name).isEqualTo(y.dtype());
    assertThat(x.shape()).as(name).isEqualTo(y.shape());
    assertThat(a.bytes(name)).as(name).isEqualTo(b.bytes(name));
  }

  @Test
  void modelFolderWithOnlyABinOpensIt() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("model"));
    Files.copy(FIXTURES.resolve("tiny-deberta/config.json"), dir.resolve("config.json"));
    Files.copy(FIXTURES.resolve("tiny-deberta/pytorch_model.bin"), dir.resolve("pytorch_model.bin"));
    try (WeightSource ckpt = Checkpoints.open(dir)) {
      assertThat(ckpt).isInstanceOf(TorchCheckpoint.class);
      assertThat(ckpt.loadFloat("embeddings.word_embeddings.weight").shape()).containsExactly(64L, 16L);
    }
  }

  @Test
  void convertedToSafetensorsGivesTheSameTensors() throws IOException {
    for (String fixture : new String[] {"mixed.bin", "legacy.bin", "tiny-deberta/pytorch_model.bin"}) {
      Path out = tmp.resolve(fixture.replace('/', '_') + ".safetensors");
      try (TorchCheckpoint bin = TorchCheckpoint.open(FIXTURES.resolve(fixture))) {
        SafetensorsWriter.write(out, bin);
        try (SafetensorsFile st = SafetensorsFile.open(out)) {
          assertThat(st.names()).as(fixture).containsExactlyElementsOf(bin.names());
          for (String name : bin.names()) {
            assertSameTensor(bin, st, name);
          }
        }
      }
    }
  }

  @Test
  void zip64EndRecordIsFollowed() throws IOException {
    byte[] d = Files.readAllBytes(FIXTURES.resolve("mixed.bin"));
    int i = d.length - 22;
    while (!(d[i] == 'P' && d[i + 1] == 'K' && d[i + 2] == 5 && d[i + 3] == 6)) {
      i--;
    }
    // torch writes zip64 end records; with the classic record's fields at their zip64 markers a reader
    // must take entry count, directory size and offset from the zip64 record
    ByteBuffer b = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
    b.putShort(i + 8, (short) 0xffff).putShort(i + 10, (short) 0xffff).putInt(i + 12, -1).putInt(i + 16, -1);
    Path file = Files.write(tmp.resolve("zip64.bin"), d);
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
      assertMatchesExpected(ckpt, FIXTURES.resolve("mixed.expected.json"));
    }
  }

  // ------------------------------------------------------------------ refused files

  @Test
  void maliciousPicklesAreRefusedNamingTheGlobal() {
    assertThatThrownBy(() -> TorchCheckpoint.open(FIXTURES.resolve("malicious-os-system.bin")))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("malicious-os-system.bin")
        .hasMessageContaining("refused global 'os.system'")
        .hasMessageContaining("nothing was executed");
    assertThatThrownBy(() -> TorchCheckpoint.open(FIXTURES.resolve("malicious-eval.bin")))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("malicious-eval.bin")
        .hasMessageContaining("refused global 'builtins.eval'");
    assertThatThrownBy(() -> TorchCheckpoint.open(FIXTURES.resolve("malicious-legacy.bin")))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("malicious-legacy.bin")
        .hasMessageContaining("refused global 'posix.system'");
    assertThatThrownBy(() -> TorchCheckpoint.open(FIXTURES.resolve("whole-module.pt")))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("whole-module.pt")
        .hasMessageContaining("refused global 'torch.nn.modules.linear.Linear'")
        .hasMessageContaining("save model.state_dict()");
  }

  @Test
  void otherForbiddenGlobalsAreRefused() throws IOException {
    String[][] globals = {
        {"__builtin__", "getattr"}, {"builtins", "exec"}, {"subprocess", "Popen"}, {"torch", "load"},
        {"torch._utils", "_rebuild_qtensor"}, {"collections", "defaultdict"}, {"torch", "FooStorage"},
    };
    for (String[] g : globals) {
      byte[] pkl = new TorchFiles.Pickle().proto(2).global(g[0], g[1]).op(')', 'R', '.').bytes();
      Path file = TorchFiles.zip(tmp.resolve(g[1] + ".bin"), pkl, Map.of(), false);
      assertThatThrownBy(() -> TorchCheckpoint.open(file))
          .isInstanceOf(ModelFormatException.class)
          .hasMessageContaining(file.toString())
          .hasMessageContaining("refused global '" + g[0] + "." + g[1] + "'");
    }
    // an allowed name used as something it is not is refused too
    byte[] callStorage = new TorchFiles.Pickle().proto(2).global("torch", "FloatStorage").op(')', 'R', '.').bytes();
    Path file = TorchFiles.zip(tmp.resolve("call.bin"), callStorage, Map.of(), false);
    assertThatThrownBy(() -> TorchCheckpoint.open(file)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("torch.FloatStorage cannot be called");
  }

  @Test
  void unsupportedDtypeNamesTheTensor() throws IOException {
    assertThatThrownBy(() -> TorchCheckpoint.open(FIXTURES.resolve("uint16.bin")))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("uint16.bin")
        .hasMessageContaining("tensor 'u16' has dtype torch.uint16, which is not supported");
    byte[] pkl = TorchFiles.Pickle.stateDict("c", "ComplexFloatStorage", "0", 2, 0, new long[] {2}, new long[] {1});
    Path file = TorchFiles.zip(tmp.resolve("complex.bin"), pkl, Map.of("0", new byte[16]), false);
    assertThatThrownBy(() -> TorchCheckpoint.open(file))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("tensor 'c' uses storage type torch.ComplexFloatStorage")
        .hasMessageContaining("not supported");
  }

  @Test
  void handMadeZipWithDeflatedStorageAndOffsetView() throws IOException {
    byte[] pkl = TorchFiles.Pickle.stateDict("w", "FloatStorage", "0", 4, 1, new long[] {3}, new long[] {1});
    for (boolean deflate : new boolean[] {false, true}) {
      Path file = TorchFiles.zip(tmp.resolve("ok" + deflate + ".bin"), pkl,
          Map.of("0", TorchFiles.floats(1, 2, 3, 4)), deflate);
      try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
        assertThat(ckpt.names()).containsExactly("w");
        assertThat(ckpt.readFloats("w")).containsExactly(2, 3, 4);
        assertThat(ckpt.info("w").offset() < 0).isEqualTo(deflate);
      }
    }
  }

  @Test
  void untypedStorageTensorsV3AndSubclassWrappers() throws IOException {
    TorchFiles.Pickle p = new TorchFiles.Pickle().proto(2).op('}').mark();
    // 'v3': _rebuild_tensor_v3(('storage', torch.storage.UntypedStorage, '0', 'cpu', 16), 1, (3,), (1,), False,
    //        OrderedDict(), torch.float32): bytes of an untyped storage read as float32 from element 1
    p.str("v3").global("torch._utils", "_rebuild_tensor_v3").mark()
        .mark().str("storage").global("torch.storage", "UntypedStorage").str("0").str("cpu").integer(16).tuple().op('Q')
        .integer(1).ints(3).ints(1).op(0x89).global("collections", "OrderedDict").op(')', 'R')
        .global("torch", "float32").tuple().op('R');
    // 'wrapped': _rebuild_from_type_v2(_rebuild_tensor_v2, torch.nn.parameter.Parameter, (...), {}) around
    //            _rebuild_parameter_with_state(tensor, True, OrderedDict(), {})
    p.str("wrapped").global("torch._utils", "_rebuild_parameter_with_state").mark()
        .global("torch._tensor", "_rebuild_from_type_v2").mark()
        .global("torch._utils", "_rebuild_tensor_v2").global("torch.nn.parameter", "Parameter").mark()
        .mark().str("storage").global("torch", "HalfStorage").str("1").str("cpu").integer(2).tuple().op('Q')
        .integer(0).ints(2).ints(1).op(0x89).global("collections", "OrderedDict").op(')', 'R').tuple()
        .op('}').tuple().op('R')
        .op(0x88).global("collections", "OrderedDict").op(')', 'R').op('}').tuple().op('R');
    p.op('u', '.');
    byte[] half = {0x00, 0x3c, 0x00, (byte) 0xc0}; // 1.0, -2.0
    Path file = TorchFiles.zip(tmp.resolve("v3.bin"), p.bytes(),
        Map.of("0", TorchFiles.floats(1, 2, 3, 4), "1", half), false);
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
      assertThat(ckpt.names()).containsExactly("v3", "wrapped");
      assertThat(ckpt.info("v3").dtype()).isEqualTo(DType.F32);
      assertThat(ckpt.readFloats("v3")).containsExactly(2, 3, 4);
      assertThat(ckpt.info("wrapped").dtype()).isEqualTo(DType.F16);
      assertThat(ckpt.readFloats("wrapped")).containsExactly(1, -2);
    }
  }

  @Test
  void notAZipOrTruncated() throws IOException {
    Path text = Files.writeString(tmp.resolve("text.bin"), "hello, I am not a checkpoint");
    assertThatThrownBy(() -> TorchCheckpoint.open(text)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("text.bin").hasMessageContaining("not a PyTorch checkpoint");
    Path empty = Files.write(tmp.resolve("empty.bin"), new byte[0]);
    assertThatThrownBy(() -> TorchCheckpoint.open(empty)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("empty.bin").hasMessageContaining("0 bytes");
    byte[] full = Files.readAllBytes(FIXTURES.resolve("mixed.bin"));
    for (int len : new int[] {10, full.length / 2, full.length - 1}) {
      Path cut = Files.write(tmp.resolve("cut" + len + ".bin"), java.util.Arrays.copyOf(full, len));
      assertThatThrownBy(() -> TorchCheckpoint.open(cut)).as("cut at " + len)
          .isInstanceOf(ModelFormatException.class)
          .hasMessageContaining(cut.toString()).hasMessageContaining("truncated");
    }
    byte[] legacy = Files.readAllBytes(FIXTURES.resolve("legacy.bin"));
    for (int len : new int[] {40, 300, legacy.length - 2}) {
      Path cut = Files.write(tmp.resolve("legacycut" + len + ".bin"), java.util.Arrays.copyOf(legacy, len));
      assertThatThrownBy(() -> TorchCheckpoint.open(cut)).as("legacy cut at " + len)
          .isInstanceOf(ModelFormatException.class)
          .hasMessageContaining(cut.toString()).hasMessageContaining("truncated");
    }
    // a plain pickle without torch's magic number
    Path plain = Files.write(tmp.resolve("plain.pkl.bin"), new TorchFiles.Pickle().proto(2).op('}', '.').bytes());
    assertThatThrownBy(() -> TorchCheckpoint.open(plain)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("not a torch.save checkpoint");
  }

  @Test
  void missingDataPkl() throws IOException {
    Path file = TorchFiles.zip(tmp.resolve("nopkl.bin"), null, Map.of("0", new byte[4]), false);
    assertThatThrownBy(() -> TorchCheckpoint.open(file)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("nopkl.bin").hasMessageContaining("no <archive>/data.pkl")
        .hasMessageContaining("archive/version");
  }

  @Test
  void missingStorageNamesTensorAndKey() throws IOException {
    byte[] pkl = TorchFiles.Pickle.stateDict("encoder.w", "FloatStorage", "7", 2, 0, new long[] {2}, new long[] {1});
    Path file = TorchFiles.zip(tmp.resolve("nostorage.bin"), pkl, Map.of("0", new byte[8]), false);
    assertThatThrownBy(() -> TorchCheckpoint.open(file)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("nostorage.bin")
        .hasMessageContaining("tensor 'encoder.w' uses storage '7'")
        .hasMessageContaining("archive/data/7");
  }

  @Test
  void tensorLargerThanItsStorage() throws IOException {
    // shape 3 at offset 2 of a 4-float storage
    byte[] pkl = TorchFiles.Pickle.stateDict("big", "FloatStorage", "0", 4, 2, new long[] {3}, new long[] {1});
    Path file = TorchFiles.zip(tmp.resolve("big.bin"), pkl, Map.of("0", new byte[16]), false);
    assertThatThrownBy(() -> TorchCheckpoint.open(file)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("big.bin").hasMessageContaining("tensor 'big'")
        .hasMessageContaining("needs bytes [8, 20) of storage '0', which holds only 16 bytes");
    // strides reaching past the storage
    byte[] strided = TorchFiles.Pickle.stateDict("s", "FloatStorage", "0", 4, 0, new long[] {2, 2}, new long[] {3, 1});
    Path file2 = TorchFiles.zip(tmp.resolve("strided.bin"), strided, Map.of("0", new byte[16]), false);
    assertThatThrownBy(() -> TorchCheckpoint.open(file2)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("tensor 's'").hasMessageContaining("which holds only 16 bytes");
    // the storage entry holds fewer bytes than the pickle declares
    byte[] declared = TorchFiles.Pickle.stateDict("d", "FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1});
    Path file3 = TorchFiles.zip(tmp.resolve("short.bin"), declared, Map.of("0", new byte[12]), false);
    assertThatThrownBy(() -> TorchCheckpoint.open(file3)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("tensor 'd': storage '0' holds 12 bytes, but the pickle says 4 elements (16 bytes)");
    // shape and stride of different lengths, and an overflowing shape
    byte[] bad = TorchFiles.Pickle.stateDict("x", "FloatStorage", "0", 4, 0, new long[] {2, 2}, new long[] {1});
    Path file4 = TorchFiles.zip(tmp.resolve("dims.bin"), bad, Map.of("0", new byte[16]), false);
    assertThatThrownBy(() -> TorchCheckpoint.open(file4)).hasMessageContaining("tensor 'x' has 2 dimensions but 1 strides");
    byte[] huge = TorchFiles.Pickle.stateDict("h", "FloatStorage", "0", 4, 0,
        new long[] {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE}, new long[] {0, 0, 0});
    Path file5 = TorchFiles.zip(tmp.resolve("huge.bin"), huge, Map.of("0", new byte[16]), false);
    assertThatThrownBy(() -> TorchCheckpoint.open(file5)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("tensor 'h' has an impossible shape");
  }

  @Test
  void nonContiguousStridedTensorIsMaterialised() throws IOException {
    // a 2x2 view with row stride 3 of a 2x3 storage: [[0, 1], [3, 4]]
    byte[] pkl = TorchFiles.Pickle.stateDict("v", "FloatStorage", "0", 6, 0, new long[] {2, 2}, new long[] {3, 1});
    Path file = TorchFiles.zip(tmp.resolve("view.bin"), pkl, Map.of("0", TorchFiles.floats(0, 1, 2, 3, 4, 5)), false);
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
      assertThat(ckpt.isContiguous("v")).isFalse();
      assertThat(ckpt.readFloats("v")).containsExactly(0, 1, 3, 4);
    }
    // an expanded tensor (stride 0)
    byte[] expanded = TorchFiles.Pickle.stateDict("e", "FloatStorage", "0", 2, 0, new long[] {3, 2}, new long[] {0, 1});
    Path file2 = TorchFiles.zip(tmp.resolve("expanded.bin"), expanded, Map.of("0", TorchFiles.floats(7, 8)), false);
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(file2)) {
      assertThat(ckpt.readFloats("e")).containsExactly(7, 8, 7, 8, 7, 8);
    }
  }

  @Test
  void unexpectedOpcodesNameThemselvesAndTheirOffset() throws IOException {
    Object[][] cases = {
        // INST would construct an arbitrary class
        {new TorchFiles.Pickle().proto(2).mark().op('i').bytes(), "unsupported pickle opcode INST at byte 3"},
        {new TorchFiles.Pickle().proto(2).op(0x82, 1).bytes(), "unsupported pickle opcode EXT1 at byte 2"},
        {new TorchFiles.Pickle().proto(2).op('}').op(0xff).bytes(), "opcode 0xff (not a pickle opcode) at byte 3"},
        {new TorchFiles.Pickle().proto(2).op('}').bytes(), "without a STOP opcode"},
        {new TorchFiles.Pickle().proto(2).op('X', 100, 0, 0, 0).op('a', 'b').bytes(), "pickle is truncated"},
        {new TorchFiles.Pickle().proto(2).op('h', 5, '.').bytes(), "memo index 5 was never stored at byte 2"},
        {new TorchFiles.Pickle().proto(2).op('s', '.').bytes(), "stack underflow at byte 2"},
        {new TorchFiles.Pickle().proto(9).op('.').bytes(), "unsupported pickle protocol 9"},
        {new TorchFiles.Pickle().proto(2).op(']', '.').bytes(), "holds a list, not a state dict"},
    };
    int i = 0;
    for (Object[] c : cases) {
      Path file = TorchFiles.zip(tmp.resolve("op" + i++ + ".bin"), (byte[]) c[0], Map.of(), false);
      assertThatThrownBy(() -> TorchCheckpoint.open(file)).as((String) c[1])
          .isInstanceOf(ModelFormatException.class)
          .hasMessageContaining(file.toString())
          .hasMessageContaining((String) c[1]);
    }
  }

  @Test
  void checkpointDictWithoutTensorsAndBigEndian() throws IOException {
    byte[] pkl = new TorchFiles.Pickle().proto(2).op('}').str("epoch").integer(3).op('s', '.').bytes();
    Path file = TorchFiles.zip(tmp.resolve("notensors.bin"), pkl, Map.of(), false);
    assertThatThrownBy(() -> TorchCheckpoint.open(file)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("no tensors found").hasMessageContaining("epoch");
    byte[] empty = new TorchFiles.Pickle().proto(2).op('}', '.').bytes();
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(TorchFiles.zip(tmp.resolve("emptydict.bin"), empty, Map.of(), false))) {
      assertThat(ckpt.names()).isEmpty();
    }
    Map<String, byte[]> entries = new java.util.LinkedHashMap<>();
    entries.put("x/data.pkl", empty);
    entries.put("x/byteorder", "big".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    Path big = TorchFiles.zipEntries(tmp.resolve("big-endian.bin"), entries, false);
    assertThatThrownBy(() -> TorchCheckpoint.open(big)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("byteorder is 'big'");
  }

  @Test
  void failedOpenLeavesNoOpenFile() throws IOException {
    Path fds = Path.of("/proc/self/fd");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(fds), "needs /proc/self/fd");
    Path[] bad = {FIXTURES.resolve("malicious-os-system.bin"), FIXTURES.resolve("malicious-legacy.bin"),
        FIXTURES.resolve("uint16.bin")};
    long before;
    try (var s = Files.list(fds)) {
      before = s.count();
    }
    for (int i = 0; i < 100; i++) {
      for (Path file : bad) {
        assertThatThrownBy(() -> TorchCheckpoint.open(file)).isInstanceOf(ModelFormatException.class);
      }
    }
    long after;
    try (var s = Files.list(fds)) {
      after = s.count();
    }
    assertThat(after).isLessThan(before + 10);
  }
}
