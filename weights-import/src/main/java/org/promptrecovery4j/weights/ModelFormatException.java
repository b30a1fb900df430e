package org.promptrecovery4j.weights;

/** A model file that cannot be read as it is: the message names the file and, where known, the tensor. */
public class ModelFormatException extends IllegalArgumentException {

  public ModelFormatException(String message) {
    super(message);
  }

  public ModelFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
