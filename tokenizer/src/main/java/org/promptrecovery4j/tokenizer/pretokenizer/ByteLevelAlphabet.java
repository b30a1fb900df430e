package org.promptrecovery4j.tokenizer.pretokenizer;

/** GPT-2's reversible map between the 256 byte values and printable Unicode characters. */
public final class ByteLevelAlphabet {
  private static final char[] BYTE_TO_CHAR = new char[256];
  private static final int[] CHAR_TO_BYTE = new int[0x200];

  static {
    java.util.Arrays.fill(CHAR_TO_BYTE, -1);
    int n = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      char c = printable ? (char) b : (char) (256 + n++);
      BYTE_TO_CHAR[b] = c;
      CHAR_TO_BYTE[c] = b;
    }
  }

  private ByteLevelAlphabet() {}

  public static char charOf(int b) {
    return BYTE_TO_CHAR[b & 0xFF];
  }

  /** The byte a character stands for, or -1 when it is not in the alphabet. */
  public static int byteOf(int c) {
    return c >= 0 && c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
  }

  /** Maps the UTF-8 bytes of {@code s} to alphabet characters. */
  public static String encode(String s) {
    byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    char[] out = new char[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = BYTE_TO_CHAR[b[i] & 0xFF];
    }
    return new String(out);
  }
}
