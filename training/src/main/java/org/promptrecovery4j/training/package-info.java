/**
 * Training on the JVM: the DeBERTa-feature regression head (Linear → BatchNorm1d → ReLU → Linear onto
 * sentence-t5 embeddings) and LoRA fine-tuning of the causal LMs, with checkpoints in safetensors.
 */
package org.promptrecovery4j.training;
