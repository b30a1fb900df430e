/**
 * Training on the JVM: the DeBERTa-feature regression head (Linear → BatchNorm1d → ReLU → Linear onto
 * sentence-t5 embeddings) and LoRA fine-tuning of the causal LMs, with checkpoints in safetensors.
 *
 * <p>{@code head}: {@link org.promptrecovery4j.training.head.RegressionHead} (the seed's head, PyTorch tensor names),
 * {@link org.promptrecovery4j.training.head.HeadTrainer} (train-head / predict-embedding);
 * {@code optim}: {@link org.promptrecovery4j.training.optim.AdamW} (torch.optim.AdamW in float32) and
 * {@link org.promptrecovery4j.training.optim.GradClipping}. See docs/training.md.
 */
package org.promptrecovery4j.training;
