package org.promptrecovery4j.tokenizer.spm;

import java.util.ArrayList;
import java.util.List;
import org.promptrecovery4j.tokenizer.decoder.Decoder;
import org.promptrecovery4j.tokenizer.decoder.Decoders;

/**
 * SentencePiece's decoding: runs of byte pieces become UTF-8 text, ▁ becomes a space, and at the
 * beginning one leading ▁ is consumed (with remove_extra_whitespaces, one per piece for as long as
 * nothing has been written yet). With {@code stripResult} the text is stripped at the end, as
 * DebertaV2Tokenizer does.
 */
public record SpmDecoder(boolean addDummyPrefix, boolean removeExtraWhitespaces, boolean stripResult)
    implements Decoder {
  public SpmDecoder(boolean addDummyPrefix, boolean removeExtraWhitespaces) {
    this(addDummyPrefix, removeExtraWhitespaces, false);
  }

  @Override
  public List<String> decodeChain(List<String> tokens) {
    // byte runs first: a run decodes to one string that does not take part in the bos logic
    List<String> pieces = new ArrayList<>();
    List<Boolean> isBytes = new ArrayList<>();
    List<String> run = new ArrayList<>();
    for (String t : tokens) {
      if (Decoders.ByteFallback.byteToken(t) >= 0) {
        run.add(t);
        continue;
      }
      flush(run, pieces, isBytes);
      pieces.add(t);
      isBytes.add(false);
    }
    flush(run, pieces, isBytes);
    StringBuilder text = new StringBuilder();
    boolean isBosWs = true;
    boolean bosWsSeen = false;
    for (int i = 0; i < pieces.size(); i++) {
      String p = pieces.get(i);
      if (isBytes.get(i)) {
        text.append(p);
        continue;
      }
      if (bosWsSeen || text.length() > 0) {
        isBosWs = false;
      }
      boolean hasBosWs = false;
      if (isBosWs && (addDummyPrefix || removeExtraWhitespaces) && p.startsWith("\u2581")) {
        p = p.substring(1);
        hasBosWs = !removeExtraWhitespaces;
      }
      bosWsSeen = hasBosWs;
      text.append(p.replace('\u2581', ' '));
    }
    String out = text.toString();
    if (stripResult) {
      out = pyStrip(out);
    }
    return List.of(out);
  }

  /** Python's str.strip(): removes leading and trailing whitespace. */
  static String pyStrip(String s) {
    int b = 0;
    int e = s.length();
    while (b < e && isPySpace(s.codePointAt(b))) {
      b += Character.charCount(s.codePointAt(b));
    }
    while (e > b && isPySpace(s.codePointBefore(e))) {
      e -= Character.charCount(s.codePointBefore(e));
    }
    return s.substring(b, e);
  }

  private static boolean isPySpace(int cp) {
    return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
  }

  private static void flush(List<String> run, List<String> pieces, List<Boolean> isBytes) {
    if (!run.isEmpty()) {
      pieces.add(String.join("", new Decoders.ByteFallback().decodeChain(new ArrayList<>(run))));
      isBytes.add(true);
      run.clear();
    }
  }
}
