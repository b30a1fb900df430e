/**
 * The prompt-recovery pipeline's data layer: Kaggle CSV rows ({@link org.promptrecovery4j.recovery.KaggleCsv}), the
 * seed's cleaning of Gemma's rewrites ({@link org.promptrecovery4j.recovery.RewrittenTextCleaner}, the {@code clean}
 * command) and the cleaning of prompts an LLM recoverer generated
 * ({@link org.promptrecovery4j.recovery.GeneratedPromptCleaner}); the recoverers: built-in zero-shot
 * ({@link org.promptrecovery4j.recovery.ZeroShotRecoverer}), a causal LM with a LoRA adapter
 * ({@link org.promptrecovery4j.recovery.LoraRecoverer}), few-shot prompting of an instruct model
 * ({@link org.promptrecovery4j.recovery.FewShotRecoverer}, examples from an
 * {@link org.promptrecovery4j.recovery.ExampleBank}); and the {@code rewrite} job that makes training data
 * ({@link org.promptrecovery4j.recovery.RewriteJob}). Submissions are written by
 * {@link org.promptrecovery4j.evaluation.Submission#write}.
 */
package org.promptrecovery4j.recovery;
