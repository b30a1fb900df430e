package org.promptrecovery4j.models.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.promptrecovery4j.models.Models;
import org.promptrecovery4j.models.generation.CausalLM;
import org.promptrecovery4j.models.generation.DecoderOptions;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;
import org.promptrecovery4j.weights.Checkpoints;
import org.promptrecovery4j.weights.DTypeConversions;
import org.promptrecovery4j.weights.ModelFormatException;
import org.promptrecovery4j.weights.WeightSource;

/**
 * PEFT LoRA adapters (fixtures/lora, made by tools/reference/lora_fixtures.py with init_lora_weights=False, so
 * B is not zero) on the tiny phi, Mistral and Gemma fixtures: logits through the adapter hook against PEFT's,
 * and merge-lora's folder against PEFT's merge_and_unload (in the stored dtype) and its merged weight.
 */
class LoraAdapterTest {

  static Path fixtures() {
    return Path.of(System.getProperty("pr4j.fixtures", "../fixtures"));
  }

  static JsonNode expected(String name) throws Exception {
    return new ObjectMapper().readTree(fixtures().resolve("lora").resolve(name).resolve("expected.json").toFile());
  }

  /** A tensor of the fixture's tensor JSON ({"shape", "data"}) as float32. */
  static INDArray read(JsonNode t) {
    return org.promptrecovery4j.core.TensorJson.tensor(t, "fixtures/lora expected.json").castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
  }

  /** Max |diff| over non-padded positions, relative to the largest expected logit. */
  static double relDiff(INDArray got, INDArray want, INDArray mask) {
    double max = 0;
    double scale = Math.max(1e-12, Math.abs(want.amaxNumber().doubleValue()));
    for (int b = 0; b < mask.size(0); b++) {
      for (int t = 0; t < mask.size(1); t++) {
        if (mask.getDouble(b, t) == 0) {
          continue;
        }
        for (int v = 0; v < want.size(2); v++) {
          max = Math.max(max, Math.abs(got.getDouble(b, t, v) - want.getDouble(b, t, v)));
        }
      }
    }
    return max / scale;
  }

  static Map<String, Object> inputs(String fixture) throws Exception {
    return org.promptrecovery4j.core.TensorJson.read(fixtures().resolve(fixture).resolve("inputs.json"));
  }

  @ParameterizedTest
  @CsvSource({"tiny-phi, FLOAT32", "tiny-mistral-gqa2, FLOAT32", "tiny-gemma-bf16, FLOAT32", "tiny-gemma-bf16, AS_STORED"})
  void logitsMatchPeft(String fixture, WeightStorage storage) throws Exception {
    Map<String, Object> in = inputs(fixture);
    INDArray mask = (INDArray) in.get("attention_mask");
    LoraAdapter lora = LoraAdapter.load(fixtures().resolve("lora").resolve(fixture));
    INDArray want = read(expected(fixture).get("logits"));
    try (CausalLM lm = lora.loadOnto(fixtures().resolve(fixture), DecoderOptions.defaults().withStorage(storage))) {
      INDArray got = (INDArray) lm.forward((INDArray) in.get("input_ids"), mask).get("logits");
      double rel = relDiff(got, want, mask);
      System.out.printf("%s %s with LoRA: max |diff| / max |logit| = %.3g%n", fixture, storage, rel);
      assertThat(rel).isLessThan(1e-5);
    }
    try (CausalLM plain = Models.loadCausalLM(fixtures().resolve(fixture), DecoderOptions.defaults())) {
      INDArray base = (INDArray) plain.forward((INDArray) in.get("input_ids"), mask).get("logits");
      assertThat(relDiff(base, want, mask)).as("the adapter moves the logits").isGreaterThan(0.05);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny-phi", "tiny-mistral-gqa2", "tiny-gemma-bf16"})
  void mergedFolderMatchesPeftMergeAndUnload(String fixture, @TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("merged");
    LoraMerge.merge(fixtures().resolve(fixture), fixtures().resolve("lora").resolve(fixture), out);
    assertThat(out.resolve("config.json")).exists();
    assertThat(out.resolve("inputs.json")).exists(); // every non-weight file of the folder comes along
    try (Stream<Path> left = Files.list(tmp)) {
      assertThat(left.toList()).containsExactly(out);
    }
    JsonNode e = expected(fixture);
    try (WeightSource merged = Checkpoints.open(out); WeightSource base = Checkpoints.open(fixtures().resolve(fixture))) {
      assertThat(merged.names()).containsExactlyElementsOf(base.names());
      String name = e.get("merged_weight_name").asText();
      assertThat(merged.info(name).dtype()).isEqualTo(base.info(name).dtype());
      float[] got = merged.readFloats(name);
      float[] want = read(e.get("merged_weight")).dup('c').data().asFloat();
      int differ = 0;
      for (int i = 0; i < want.length; i++) {
        // bf16: at most one unit in the last place where the float32 sum lands next to a rounding boundary
        double ulp = base.info(name).dtype() == org.promptrecovery4j.weights.DType.BF16 ? Math.ulp(want[i]) * 65536 : 1e-6;
        assertThat((double) Math.abs(got[i] - want[i])).as("%s[%d]", name, i).isLessThanOrEqualTo(ulp);
        differ += got[i] != want[i] ? 1 : 0;
      }
      System.out.printf("%s merged %s: %d of %d values differ from PEFT's%n", fixture, name, differ, want.length);
    }
    Map<String, Object> in = inputs(fixture);
    INDArray mask = (INDArray) in.get("attention_mask");
    try (CausalLM lm = Models.loadCausalLM(out, DecoderOptions.defaults())) {
      INDArray got = (INDArray) lm.forward((INDArray) in.get("input_ids"), mask).get("logits");
      double rel = relDiff(got, read(e.get("merged_logits")), mask);
      System.out.printf("%s merged folder: max |diff| / max |logit| = %.3g%n", fixture, rel);
      assertThat(rel).isLessThan(1e-4);
    }
  }

  @Test
  void anAdapterForAnotherModelIsNamed(@TempDir Path tmp) throws Exception {
    LoraAdapter phi = LoraAdapter.load(fixtures().resolve("lora/tiny-phi"));
    assertThatThrownBy(() -> phi.loadOnto(fixtures().resolve("tiny-mistral-gqa2"), DecoderOptions.defaults()))
        .isInstanceOf(ModelFormatException.class).hasMessageContaining("model.layers.0.self_attn.q_proj")
        .hasMessageContaining("do not fit the layer's 32 → 32");
    // the Mistral adapter with one module renamed to phi's attention output, which Mistral has not got
    Path renamed = tmp.resolve("renamed");
    Files.createDirectories(renamed);
    Files.copy(fixtures().resolve("lora/tiny-mistral-gqa2/adapter_config.json"), renamed.resolve("adapter_config.json"));
    try (WeightSource w = Checkpoints.open(fixtures().resolve("lora/tiny-mistral-gqa2/adapter_model.safetensors"))) {
      java.util.function.UnaryOperator<String> rename = n -> n.replace("layers.1.self_attn.o_proj", "layers.1.self_attn.dense");
      WeightSource view = new WeightSource() {
        String orig(String n) {
          return n.replace("layers.1.self_attn.dense", "layers.1.self_attn.o_proj");
        }

        public Path location() {
          return w.location();
        }

        public java.util.List<String> names() {
          return w.names().stream().map(rename).toList();
        }

        public boolean contains(String n) {
          return w.contains(orig(n));
        }

        public org.promptrecovery4j.weights.TensorInfo info(String n) {
          return w.info(orig(n));
        }

        public java.nio.ByteBuffer bytes(String n) {
          return w.bytes(orig(n));
        }

        public void close() {}
      };
      org.promptrecovery4j.weights.SafetensorsWriter.write(renamed.resolve("adapter_model.safetensors"), view);
    }
    LoraAdapter odd = LoraAdapter.load(renamed);
    assertThatThrownBy(() -> odd.loadOnto(fixtures().resolve("tiny-mistral-gqa2"), DecoderOptions.defaults()))
        .isInstanceOf(ModelFormatException.class).hasMessageContaining("[model.layers.1.self_attn.dense]")
        .hasMessageContaining("which the model has no linear layer named");
    Path out = tmp.resolve("m");
    assertThatThrownBy(() -> LoraMerge.merge(fixtures().resolve("tiny-mistral-gqa2"), renamed, out))
        .isInstanceOf(ModelFormatException.class).hasMessageContaining("has no tensor model.layers.1.self_attn.dense.weight");
    assertThat(out).doesNotExist();
    try (Stream<Path> left = Files.list(tmp)) {
      assertThat(left.toList()).containsExactly(renamed); // no staging folder left
    }
  }

  @Test
  void unsupportedSettingsAreRefusedByName(@TempDir Path tmp) throws Exception {
    Path src = fixtures().resolve("lora/tiny-phi");
    for (String[] c : new String[][] {{"use_dora", "true", "DoRA"}, {"bias", "\"all\"", "bias \"all\""},
        {"modules_to_save", "[\"lm_head\"]", "modules_to_save"}, {"peft_type", "\"IA3\"", "peft_type IA3"},
        {"r", "0", "r must be in"}}) {
      Path dir = tmp.resolve(c[0]);
      Files.createDirectories(dir);
      Files.copy(src.resolve("adapter_model.safetensors"), dir.resolve("adapter_model.safetensors"));
      ObjectNode cfg = (ObjectNode) new ObjectMapper().readTree(src.resolve("adapter_config.json").toFile());
      cfg.set(c[0], new ObjectMapper().readTree(c[1]));
      Files.writeString(dir.resolve("adapter_config.json"), cfg.toString());
      assertThatThrownBy(() -> LoraAdapter.load(dir)).as(c[0]).isInstanceOf(ModelFormatException.class)
          .hasMessageContaining(c[2]).hasMessageContaining("adapter_config.json");
    }
  }

  @Test
  void halfPrecisionRoundingIsNearestEven() {
    java.util.Random r = new java.util.Random(3);
    for (int i = 0; i < 200_000; i++) {
      float f = switch (i % 4) {
        case 0 -> (float) r.nextGaussian();
        case 1 -> (float) (r.nextGaussian() * 1e-6); // f16 subnormals
        case 2 -> (float) (r.nextGaussian() * 70000); // f16 overflow
        default -> Float.intBitsToFloat(r.nextInt());
      };
      if (Float.isNaN(f)) {
        assertThat(DTypeConversions.f16ToFloat(DTypeConversions.floatToF16(f))).isNaN();
        assertThat(DTypeConversions.bf16ToFloat(DTypeConversions.floatToBf16(f))).isNaN();
        continue;
      }
      assertNearest(f, DTypeConversions.f16ToFloat(DTypeConversions.floatToF16(f)), true);
      assertNearest(f, DTypeConversions.bf16ToFloat(DTypeConversions.floatToBf16(f)), false);
    }
  }

  /** {@code got} is a representable value nearest to {@code f} (ties to an even mantissa). */
  static void assertNearest(float f, float got, boolean f16) {
    short bits = f16 ? DTypeConversions.floatToF16(got) : DTypeConversions.floatToBf16(got);
    float down = f16 ? DTypeConversions.f16ToFloat((short) (bits - 1)) : DTypeConversions.bf16ToFloat((short) (bits - 1));
    float up = f16 ? DTypeConversions.f16ToFloat((short) (bits + 1)) : DTypeConversions.bf16ToFloat((short) (bits + 1));
    if (Float.isInfinite(got) || got == 0) {
      return; // overflow and underflow ends checked by the neighbours of finite values
    }
    double e = Math.abs((double) f - got);
    assertThat(e).as("%s → %s (%s)", f, got, f16 ? "f16" : "bf16").isLessThanOrEqualTo(Math.abs((double) f - down));
    assertThat(e).as("%s → %s (%s)", f, got, f16 ? "f16" : "bf16").isLessThanOrEqualTo(Math.abs((double) f - up));
  }
}
