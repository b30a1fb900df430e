package org.promptrecovery4j.tokenizer;

/** A tokenizer file or input that cannot be used; the message names the file, type, id or line. */
public class TokenizerException extends IllegalArgumentException {
  public TokenizerException(String message) {
    super(message);
  }

  public TokenizerException(String message, Throwable cause) {
    super(message, cause);
  }
}
