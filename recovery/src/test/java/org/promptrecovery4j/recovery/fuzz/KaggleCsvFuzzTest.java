package org.promptrecovery4j.recovery.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import org.promptrecovery4j.recovery.KaggleCsv;
import org.promptrecovery4j.recovery.KaggleRow;
import org.promptrecovery4j.recovery.KaggleTable;
import org.promptrecovery4j.recovery.RewrittenTextCleaner;
import org.promptrecovery4j.testsupport.Fuzzing;

/** Kaggle CSV rows ({@link KaggleCsv#read}), then cleaned: loaded or a named error, whatever the bytes. */
class KaggleCsvFuzzTest {

  @FuzzTest
  void kaggleCsv(byte[] data) throws Exception {
    Path file = Fuzzing.file("test.csv", data);
    Fuzzing.loadedOrNamedError(file, () -> {
      KaggleTable t = KaggleCsv.read(file);
      for (KaggleRow r : t.rows()) {
        t.fields(r);
        RewrittenTextCleaner.clean(r.rewrittenText());
      }
    });
  }
}
