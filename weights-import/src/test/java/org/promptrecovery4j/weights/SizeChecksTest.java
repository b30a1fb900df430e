package org.promptrecovery4j.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.weights.RestrictedUnpickler.PickleException;

/**
 * Sizes read from weight files are checked before anything is allocated from them (issue 8): each absurd claim
 * is a named {@link ModelFormatException}, never an OutOfMemoryError, an overflow or a hang.
 */
class SizeChecksTest {

  @TempDir Path tmp;

  // ------------------------------------------------------------------------------------------ safetensors

  @Test
  void safetensorsShapeWhoseElementCountOverflowsALong() throws IOException {
    Path p = SafetensorsFileTest.file(tmp, "overflow.safetensors",
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", new byte[0]);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("overflow.safetensors: tensor 'w' has a shape [4294967296,4294967296] whose element"
            + " count overflows a 64-bit integer");
  }

  @Test
  void safetensorsByteCountOverflowingALong() throws IOException {
    // 2^62 elements fit a long, 2^62 * 4 bytes do not
    Path p = SafetensorsFileTest.file(tmp, "bytes.safetensors",
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,0]}}", new byte[0]);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("bytes.safetensors: tensor 'w': shape [4611686018427387904] of F32 needs more than 2^63 bytes");
  }

  @Test
  void safetensorsHeaderClaimingAMultiTerabyteTensor() throws IOException {
    // 2^40 floats = 4 TiB, offsets that say so, in a file of a few bytes
    Path p = SafetensorsFileTest.file(tmp, "tera.safetensors",
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[1048576,1048576],\"data_offsets\":[0,4398046511104]}}", new byte[8]);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("tera.safetensors: tensor 'w' has data_offsets [0, 4398046511104] outside the data"
            + " section (8 bytes)");
    // the same shape with small offsets: the byte counts disagree
    Path q = SafetensorsFileTest.file(tmp, "tera2.safetensors",
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[1048576,1048576],\"data_offsets\":[0,8]}}", new byte[8]);
    assertThatThrownBy(() -> SafetensorsFile.open(q)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("needs 4398046511104 bytes but data_offsets [0, 8] hold 8");
  }

  @Test
  void safetensorsOffsetsBeyondALongAndHeaderLengthBeyondTheFile() throws IOException {
    Path p = SafetensorsFileTest.file(tmp, "big-offsets.safetensors",
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[18446744073709551616,18446744073709551624]}}",
        new byte[8]);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("big-offsets.safetensors: tensor 'w' has non-integer data_offsets");
    Path q = tmp.resolve("long-header.safetensors");
    Files.write(q, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-8).array());
    assertThatThrownBy(() -> SafetensorsFile.open(q)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("long-header.safetensors: header length 18446744073709551608 is not plausible");
  }

  // ------------------------------------------------------------------------------------------ sharded index

  @Test
  void deeplyNestedShardIndexIsANamedError() throws IOException {
    Path index = tmp.resolve("model.safetensors.index.json");
    Files.writeString(index, "{\"weight_map\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}");
    assertThatThrownBy(() -> ShardedCheckpoint.open(index, SafetensorsFile::open))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("model.safetensors.index.json: not valid JSON")
        .hasMessageContaining("nesting depth");
  }

  @Test
  void oversizedIndexAndConfigAreRefusedBeforeParsing() throws IOException {
    Path index = tmp.resolve("model.safetensors.index.json");
    try (var ch = java.nio.channels.FileChannel.open(index, java.nio.file.StandardOpenOption.CREATE_NEW,
        java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {' '}), ShardedCheckpoint.MAX_INDEX_BYTES); // sparse
    }
    assertThatThrownBy(() -> ShardedCheckpoint.open(index, SafetensorsFile::open))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("model.safetensors.index.json: 67108865 bytes, more than the 67108864");
    Path config = tmp.resolve("config.json");
    Files.move(index, config);
    assertThatThrownBy(() -> org.promptrecovery4j.weights.config.ModelConfig.read(config))
        .isInstanceOf(ModelFormatException.class).hasMessageContaining("config.json: 67108865 bytes, more than the");
  }

  @Test
  void shardPathClimbingToTheFilesystemRootIsRefused() throws IOException {
    Path index = tmp.resolve("model.safetensors.index.json");
    Files.writeString(index, "{\"weight_map\":{\"w\":\"" + "../".repeat(64) + "\"}}");
    assertThatThrownBy(() -> ShardedCheckpoint.open(index, SafetensorsFile::open))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("model.safetensors.index.json: tensor 'w' names shard")
        .hasMessageContaining("outside the model folder");
  }

  // ------------------------------------------------------------------------------------------ pytorch

  @Test
  void pickleClaimingAMultiTerabyteTensorOverATinyStorage() throws IOException {
    // shape [2^20, 2^20] float32 (4 TiB), contiguous strides, over a 4-float storage
    byte[] pkl = TorchFiles.Pickle.stateDict("w", "FloatStorage", "0", 4, 0, new long[] {1 << 20, 1 << 20},
        new long[] {1 << 20, 1});
    Path file = TorchFiles.zip(tmp.resolve("tera.bin"), pkl, Map.of("0", new byte[16]), false);
    assertThatThrownBy(() -> TorchCheckpoint.open(file)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("tera.bin: tensor 'w'")
        .hasMessageContaining("needs bytes [0, 4398046511104) of storage '0', which holds only 16 bytes");
  }

  @Test
  void pickleClaimingAMultiTerabyteStorage() throws IOException {
    // a storage of 2^31 - 1 floats (8 GiB) whose zip entry holds 16 bytes
    byte[] pkl = TorchFiles.Pickle.stateDict("w", "FloatStorage", "0", Integer.MAX_VALUE, 0, new long[] {4},
        new long[] {1});
    Path file = TorchFiles.zip(tmp.resolve("storage.bin"), pkl, Map.of("0", new byte[16]), false);
    assertThatThrownBy(() -> TorchCheckpoint.open(file)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("storage.bin: tensor 'w': storage '0' holds 16 bytes, but the pickle says 2147483647"
            + " elements (8589934588 bytes)");
  }

  @Test
  void stride0ViewExpandingATinyStorageToGigabytesIsRefused() throws IOException {
    // [2^28] float32 with stride 0 over one float: a 1 GiB copy on reading
    byte[] pkl = TorchFiles.Pickle.stateDict("e", "FloatStorage", "0", 1, 0, new long[] {1 << 28}, new long[] {0});
    Path file = TorchFiles.zip(tmp.resolve("expand.bin"), pkl, Map.of("0", new byte[4]), false);
    assertThatThrownBy(() -> TorchCheckpoint.open(file)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("expand.bin: tensor 'e' (F32 [268435456], strides [0]) is a strided view of 1073741824"
            + " bytes over a storage of 4 bytes");
  }

  @Test
  void legacyStorageCountOverflowingTheFileSize() throws IOException {
    byte[] main = TorchFiles.Pickle.stateDict("w", "FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1});
    Path file = TorchFiles.legacy(tmp.resolve("legacy.bin"), main, Map.of("0", TorchFiles.floats(1, 2)), 4);
    byte[] all = Files.readAllBytes(file);
    // the 8-byte element count before the storage's 8 bytes: 2^61 floats = 2^63 bytes (overflows pos + bytes)
    ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putLong(all.length - 16, 1L << 61);
    Files.write(file, all);
    assertThatThrownBy(() -> TorchCheckpoint.open(file)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("legacy.bin: storage '0' declares 2305843009213693952 elements");
    // (2^61 - 1) floats = 2^63 - 4 bytes: the product fits a long, offset + 8 + bytes does not
    ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putLong(all.length - 16, (1L << 61) - 1);
    Files.write(file, all);
    assertThatThrownBy(() -> TorchCheckpoint.open(file)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("legacy.bin: storage '0' declares 2305843009213693951 elements")
        .hasMessageContaining("beyond the end of the file");
  }

  @Test
  void zipEntryDeclaringAnAbsurdSize() throws IOException {
    byte[] pkl = TorchFiles.Pickle.stateDict("w", "FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1});
    Path file = TorchFiles.zip(tmp.resolve("entry.bin"), pkl, Map.of("0", TorchFiles.floats(1, 2)), true);
    byte[] all = Files.readAllBytes(file);
    ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
    // the deflated storage's uncompressed size in the central directory: 4 GiB - 1
    int cen = -1;
    for (int i = all.length - 22; i >= 0; i--) {
      if (b.getInt(i) == 0x02014b50 && new String(all, i + 46, b.getShort(i + 28), java.nio.charset.StandardCharsets.UTF_8)
          .equals("archive/data/0")) {
        cen = i;
      }
    }
    assertThat(cen).isPositive();
    b.putInt(cen + 24, 0xfffffffe);
    Files.write(file, all);
    assertThatThrownBy(() -> TorchCheckpoint.open(file)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("entry.bin: zip entry 'archive/data/0'")
        .hasMessageContaining("4294967294");
  }

  @Test
  void dataPklAboveTheCapIsRefusedBeforeReading() {
    assertThat(TorchCheckpoint.MAX_PICKLE_BYTES).isEqualTo(1L << 28);
  }

  @Test
  void dictKeysSharingTuplesThroughTheMemoDoNotHang() {
    // t0 = (); t_{i+1} = (t_i, t_i) for 64 levels through the memo: 2^64 nodes when hashed; then {t_64: 1}
    StringBuilder hex = new StringBuilder("8002" + "7d" + "29" + "94");
    for (int i = 0; i < 60; i++) {
      hex.append("32").append("86").append("94"); // DUP, TUPLE2, MEMOIZE
    }
    hex.append("4b01" + "73" + "2e"); // 1, SETITEM, STOP
    assertThatThrownBy(() -> RestrictedUnpicklerTest.load(hex.toString(), new TorchCheckpoint.TorchHandler()))
        .isInstanceOf(PickleException.class).hasMessageContaining("dict keys too large to hash");
  }
}
