package org.promptrecovery4j.weights.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.promptrecovery4j.testsupport.Fuzzing;
import org.promptrecovery4j.weights.TorchCheckpoint;

/**
 * The restricted unpickler behind {@link TorchCheckpoint}: the input is {@code archive/data.pkl}, put into a
 * valid torch zip archive (right CRC) beside the 16 storages of the torch-bin/mixed.bin fixture, so the
 * fuzzer gets past the CRC check into the pickle, the state dict and every tensor's storage, shape and
 * strides; loaded or a named error.
 */
class TorchPickleFuzzTest {

  private static byte[][] storages;

  private static synchronized byte[][] storages() throws IOException {
    if (storages == null) {
      byte[][] s = new byte[16][];
      try (InputStream in = TorchPickleFuzzTest.class.getResourceAsStream("mixed-storages.zip");
          ZipInputStream z = new ZipInputStream(in)) {
        for (ZipEntry e; (e = z.getNextEntry()) != null; ) {
          s[Integer.parseInt(e.getName())] = z.readAllBytes();
        }
      }
      storages = s;
    }
    return storages;
  }

  @FuzzTest
  void pickle(byte[] data) throws Exception {
    ByteArrayOutputStream zip = new ByteArrayOutputStream();
    try (ZipOutputStream out = new ZipOutputStream(zip)) {
      stored(out, "archive/data.pkl", data);
      stored(out, "archive/byteorder", "little".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      byte[][] s = storages();
      for (int i = 0; i < s.length; i++) {
        stored(out, "archive/data/" + i, s[i]);
      }
    }
    Path file = Fuzzing.file("pytorch_model.bin", zip.toByteArray());
    Fuzzing.loadedOrNamedError(file, () -> {
      try (TorchCheckpoint c = TorchCheckpoint.open(file)) {
        WeightsFuzz.readAll(c);
      }
    });
  }

  private static void stored(ZipOutputStream out, String name, byte[] bytes) throws IOException {
    ZipEntry e = new ZipEntry(name);
    e.setMethod(ZipEntry.STORED);
    e.setSize(bytes.length);
    e.setCompressedSize(bytes.length);
    CRC32 crc = new CRC32();
    crc.update(bytes);
    e.setCrc(crc.getValue());
    out.putNextEntry(e);
    out.write(bytes);
    out.closeEntry();
  }
}
