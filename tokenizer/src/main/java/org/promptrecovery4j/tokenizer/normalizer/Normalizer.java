package org.promptrecovery4j.tokenizer.normalizer;

/** Step 1 of the pipeline: rewrites the text (Unicode forms, case, replacements...). */
public interface Normalizer {
  String normalize(String text);
}
