package org.promptrecovery4j.recovery;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.training.TensorMap;

/**
 * The tiny text decoders of the fixtures (random weights, real tokenizers) made ready for the recoverers' tests:
 * copies with a longer context (the prompt-recovery instruction alone is ~115 of their 128 positions; RoPE models do
 * not care, only the context check does), and random LoRA adapters in PEFT's format.
 */
final class TinyLms {

  static final Path FIXTURES = Path.of(System.getProperty("pr4j.fixtures", "../fixtures"));
  static final ObjectMapper JSON = new ObjectMapper();

  private TinyLms() {}

  /** A copy of fixture {@code name} in {@code dir} with {@code max_position_embeddings} set to {@code context}. */
  static Path withContext(String name, Path dir, int context) throws IOException {
    Path src = FIXTURES.resolve(name);
    Path out = Files.createDirectories(dir.resolve(name + "-" + context));
    try (Stream<Path> s = Files.list(src)) {
      for (Path f : s.toList()) {
        Files.copy(f, out.resolve(f.getFileName()));
      }
    }
    ObjectNode config = (ObjectNode) JSON.readTree(out.resolve("config.json").toFile());
    config.put("max_position_embeddings", context);
    JSON.writeValue(out.resolve("config.json").toFile(), config);
    return out;
  }

  /**
   * A random LoRA adapter (r 4, alpha 8, A and B both random so that it moves the logits) on every layer's
   * {@code targets} of a model with {@code layers} layers, {@code shapes} giving each target's [out, in].
   */
  static Path adapter(Path dir, String name, int layers, Map<String, int[]> shapes, long seed) throws IOException {
    Path out = Files.createDirectories(dir.resolve(name));
    Random rnd = new Random(seed);
    TensorMap t = new TensorMap();
    int r = 4;
    for (int l = 0; l < layers; l++) {
      for (Map.Entry<String, int[]> e : new java.util.TreeMap<>(shapes).entrySet()) { // a fixed order: fixed draws
        String p = "base_model.model.model.layers." + l + "." + e.getKey();
        int o = e.getValue()[0];
        int in = e.getValue()[1];
        t.put(p + ".lora_A.weight", Nd4j.createFromArray(gauss(rnd, r * in, 0.5)).reshape(r, in));
        t.put(p + ".lora_B.weight", Nd4j.createFromArray(gauss(rnd, o * r, 0.5)).reshape(o, r));
      }
    }
    t.save(out.resolve("adapter_model.safetensors"));
    ObjectNode c = JSON.createObjectNode();
    c.put("peft_type", "LORA");
    c.put("r", r);
    c.put("lora_alpha", 8);
    c.putPOJO("target_modules", shapes.keySet().stream().map(k -> k.substring(k.lastIndexOf('.') + 1)).sorted().toList());
    c.put("bias", "none");
    c.put("task_type", "CAUSAL_LM");
    JSON.writeValue(out.resolve("adapter_config.json").toFile(), c);
    return out;
  }

  /** tiny-phi-text's attention projections (hidden 16). */
  static Map<String, int[]> phiShapes() {
    return Map.of("self_attn.q_proj", new int[] {16, 16}, "self_attn.k_proj", new int[] {16, 16},
        "self_attn.v_proj", new int[] {16, 16}, "self_attn.dense", new int[] {16, 16});
  }

  /** tiny-mistral-text's attention projections (hidden 16, 4 heads and 2 KV heads of 4). */
  static Map<String, int[]> mistralShapes() {
    return Map.of("self_attn.q_proj", new int[] {16, 16}, "self_attn.k_proj", new int[] {8, 16},
        "self_attn.v_proj", new int[] {8, 16}, "self_attn.o_proj", new int[] {16, 16});
  }

  private static float[] gauss(Random rnd, int n, double scale) {
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) (rnd.nextGaussian() * scale);
    }
    return f;
  }

  static KaggleRow row(String id, String original, String rewritten) {
    return new KaggleRow(id, original, rewritten, Optional.empty(), Map.of(), 2);
  }

  static KaggleRow labelled(String id, String original, String rewritten, String prompt) {
    return new KaggleRow(id, original, rewritten, Optional.of(prompt), Map.of(), 2);
  }

  static final List<KaggleRow> ROWS = List.of(
      row("a", "The cat sat on the mat.", "Meow! A cat, upon a mat, sat."),
      row("b", "We meet on Monday at noon to discuss the budget for next year.",
          "Dear team, our meeting about next year's budget is on Monday at noon."),
      row("c", "Rain is likely tomorrow.", "Tomorrow, the sky will weep."));
}
