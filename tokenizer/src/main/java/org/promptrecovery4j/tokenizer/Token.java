package org.promptrecovery4j.tokenizer;

/** One token as a model produces it: id and its string in the vocabulary. */
public record Token(int id, String value) {}
