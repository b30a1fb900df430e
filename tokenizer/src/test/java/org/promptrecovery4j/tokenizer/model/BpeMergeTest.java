package org.promptrecovery4j.tokenizer.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.promptrecovery4j.tokenizer.Tokenizer;
import org.promptrecovery4j.tokenizer.Tokenizers;

/** The heap merge used for long words gives exactly what the plain leftmost-lowest-rank scan gives. */
class BpeMergeTest {
  @Test
  void heapAndScanAgree() throws IOException {
    Path f = Path.of(System.getProperty("pr4j.fixtures", "../fixtures"), "tokenizers", "mistral-like.tokenizer.json");
    Tokenizer t = Tokenizers.load(f);
    Bpe bpe = (Bpe) t.model();
    String alphabet = "▁▁▁▁abcdeeeiklmnoorrsttuyz.,";
    Random rnd = new Random(1);
    for (int k = 0; k < 300; k++) {
      int len = 1 + rnd.nextInt(400);
      int[] ids = new int[len];
      for (int i = 0; i < len; i++) {
        ids[i] = bpe.tokenToId(String.valueOf(alphabet.charAt(rnd.nextInt(alphabet.length()))));
        assertThat(ids[i]).isNotNegative();
      }
      assertThat(bpe.mergeForTest(ids, true)).as("case %d", k).containsExactly(bpe.mergeForTest(ids, false));
    }
  }
}
