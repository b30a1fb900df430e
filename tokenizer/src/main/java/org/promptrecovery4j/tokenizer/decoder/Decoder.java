package org.promptrecovery4j.tokenizer.decoder;

import java.util.List;

/** Step 5: turns token strings back into text pieces (a chain, as HF's decode_chain). */
public interface Decoder {
  List<String> decodeChain(List<String> tokens);

  default String decode(List<String> tokens) {
    return String.join("", decodeChain(tokens));
  }
}
