package org.promptrecovery4j.tokenizer.fuzz;

import java.nio.file.Path;
import org.promptrecovery4j.tokenizer.Encoding;
import org.promptrecovery4j.tokenizer.Tokenizer;
import org.promptrecovery4j.tokenizer.TokenizerException;

/**
 * What the tokenizer harnesses do with a tokenizer that loaded: encode a few fixed short texts (plain,
 * special tokens, unicode, whitespace runs), with and without special tokens, and decode the ids they
 * gave. A loaded tokenizer built from the file may still refuse a text with the project's own
 * {@link TokenizerException} (e.g. a file's regex that runs past its step budget); that is a named error
 * and is reported naming the file. Anything else escapes and is a finding.
 */
final class Exercise {

  static final String[] TEXTS = {
    "Hello world! It's 2024.",
    "<s>[CLS] a</s> [SEP]<|endoftext|><unk>[MASK]",
    "naïve café – Ünïcödé 東京 😀 \u0301x\u200d",
    "  spaces\t\ttabs\n\nnew lines   ",
    "",
  };

  private Exercise() {}

  static void encodeDecode(Path file, Tokenizer t) {
    try {
      for (String text : TEXTS) {
        for (boolean special : new boolean[] {true, false}) {
          Encoding e = t.encode(text, special);
          if (e.ids().length > 64 * (text.length() + 16)) {
            throw new AssertionError(e.ids().length + " ids for a text of " + text.length() + " chars");
          }
          String back = t.decode(e.ids(), false);
          t.decode(e.ids(), true);
          if (back.length() > 1_000_000) {
            throw new AssertionError("decoded text of " + back.length() + " chars");
          }
        }
      }
      t.encodePair(TEXTS[0], TEXTS[2], true);
    } catch (TokenizerException e) {
      throw new TokenizerException(file + ": " + e.getMessage(), e);
    }
  }
}
