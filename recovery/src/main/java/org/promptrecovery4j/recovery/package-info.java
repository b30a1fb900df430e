/**
 * The prompt-recovery pipeline's data layer: Kaggle CSV rows ({@link org.promptrecovery4j.recovery.KaggleCsv}), the
 * seed's cleaning of Gemma's rewrites ({@link org.promptrecovery4j.recovery.RewrittenTextCleaner}, the {@code clean}
 * command) and the cleaning of prompts an LLM recoverer generated
 * ({@link org.promptrecovery4j.recovery.GeneratedPromptCleaner}). Submissions are written by
 * {@link org.promptrecovery4j.evaluation.Submission#write}.
 */
package org.promptrecovery4j.recovery;
