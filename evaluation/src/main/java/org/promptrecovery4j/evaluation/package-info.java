/**
 * The competition metric (sentence-t5-base embeddings, sharpened cosine similarity cos³ averaged over
 * rows) and submission CSV I/O.
 */
package org.promptrecovery4j.evaluation;
