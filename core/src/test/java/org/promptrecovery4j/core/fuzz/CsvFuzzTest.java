package org.promptrecovery4j.core.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.testsupport.Fuzzing;

/** Kaggle CSV files ({@link Csv#read}): loaded or a named error, whatever the bytes. */
class CsvFuzzTest {

  @FuzzTest
  void csv(byte[] data) throws Exception {
    Path file = Fuzzing.file("train.csv", data);
    Fuzzing.loadedOrNamedError(file, () -> Csv.read(file));
  }
}
