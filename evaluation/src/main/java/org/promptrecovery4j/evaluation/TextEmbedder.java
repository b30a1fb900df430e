package org.promptrecovery4j.evaluation;

import java.util.List;

/** Texts → embedding rows, in input order (sentence-t5 through {@code SentenceEmbedder::embed}). */
@FunctionalInterface
public interface TextEmbedder {
  float[][] embed(List<String> texts);
}
