/**
 * Pure-Java tokenizers giving exactly the ids, tokens and decodes of HuggingFace.
 *
 * <p>Entry points: {@link org.promptrecovery4j.tokenizer.Tokenizers#load(java.nio.file.Path)}
 * (tokenizer.json, SentencePiece .model, GPT-2 vocab.json/merges.txt, BERT vocab.txt, or a model
 * folder) returns a {@link org.promptrecovery4j.tokenizer.Tokenizer}: one pipeline of added-token
 * matching, {@link org.promptrecovery4j.tokenizer.normalizer.Normalizer},
 * {@link org.promptrecovery4j.tokenizer.pretokenizer.PreTokenizer},
 * {@link org.promptrecovery4j.tokenizer.model.Model},
 * {@link org.promptrecovery4j.tokenizer.processor.PostProcessor} and
 * {@link org.promptrecovery4j.tokenizer.decoder.Decoder}, whichever file it came from.
 * {@link org.promptrecovery4j.tokenizer.TokenizerConfig} holds what tokenizer_config.json says
 * (special tokens, add_bos/eos, chat template, max length);
 * {@link org.promptrecovery4j.tokenizer.JsonlTokenization} runs the CLI's JSONL jobs.
 */
package org.promptrecovery4j.tokenizer;
