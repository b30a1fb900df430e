package org.promptrecovery4j.recovery;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.promptrecovery4j.models.DecoderCompute;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;

/**
 * The recoverer types a {@link RecoveryConfig} can name, each with the keys it takes (those naming files or folders
 * are checked to exist before anything loads) and how it is built.
 */
public final class RecovererTypes {

  /** Builds one recoverer from its config entry. */
  @FunctionalInterface
  public interface Factory {
    PromptRecoverer create(RecoveryConfig.Spec spec, RecoveryConfig.Context ctx) throws IOException;
  }

  /** Checks an entry's values when the config is read, before anything loads (an error names the entry and key). */
  @FunctionalInterface
  public interface Check {
    void check(RecoveryConfig.Spec spec);
  }

  /** A type: its name, its keys, the keys that are paths, its factory, the check of its values at read time. */
  public record Type(String name, Set<String> keys, Set<String> pathKeys, Factory factory, Check check) {

    /** A type whose values are checked when it is built. */
    public Type(String name, Set<String> keys, Set<String> pathKeys, Factory factory) {
      this(name, keys, pathKeys, factory, spec -> {});
    }
  }

  private static final Map<String, Type> TYPES = new LinkedHashMap<>();

  static {
    register(new Type(ZeroShotRecoverer.NAME, Set.of("encoder", "bank", "top_k", "original_weight", "separator"),
        Set.of("encoder", "bank"), (s, ctx) -> new ZeroShotRecoverer(ctx.encoder(s),
            s.has("bank") && !s.text("bank", null).equalsIgnoreCase(PromptBank.BUILTIN) ? PromptBank.load(s.path("bank"))
                : PromptBank.builtin(),
            new ZeroShotRecoverer.Settings(s.number("original_weight", ZeroShotRecoverer.DEFAULT_ORIGINAL_WEIGHT, 0, 10),
                s.integer("top_k", ZeroShotRecoverer.DEFAULT_TOP_K, 1, 100), s.text("separator", " ")))));
    register(new Type(NearestExamplesRecoverer.NAME, Set.of("encoder", "examples", "k", "rewritten_weight",
        "change_weight", "original_weight"), Set.of("encoder", "examples"), (s, ctx) -> {
          NearestExamplesRecoverer.Settings d = NearestExamplesRecoverer.Settings.defaults();
          return new NearestExamplesRecoverer(ctx.encoder(s)::embed, KaggleCsv.read(s.requiredPath("examples")),
              new NearestExamplesRecoverer.Settings(s.integer("k", d.k(), 1, 1000),
                  s.number("rewritten_weight", d.rewrittenWeight(), 0, 100),
                  s.number("change_weight", d.changeWeight(), 0, 100),
                  s.number("original_weight", d.originalWeight(), 0, 100)));
        }));
  }

  static {
    register(new Type(LoraRecoverer.NAME, Set.of("model", "adapter", "max_new_tokens", "max_length", "batch_size",
        "compute", "keep_dtype"), Set.of("model", "adapter"), (s, ctx) -> LoraRecoverer.load(s.requiredPath("model"),
            s.requiredPath("adapter"), new LoraRecoverer.Settings(
                s.integer("max_new_tokens", LoraRecoverer.Settings.DEFAULT_MAX_NEW_TOKENS, 1, 4096),
                s.integer("max_length", LoraRecoverer.Settings.DEFAULT_MAX_LENGTH, 2, 1 << 20),
                s.integer("batch_size", LoraRecoverer.Settings.DEFAULT_BATCH_SIZE, 1, 4096)),
            compute(s)), RecovererTypes::compute));
    register(new Type(FewShotRecoverer.NAME, Set.of("model", "examples", "encoder", "k", "max_prompt_tokens",
        "max_new_tokens", "batch_size", "response_prefix", "compute", "keep_dtype"), Set.of("model", "examples",
        "encoder"), (s, ctx) -> {
          FewShotRecoverer.Settings settings = new FewShotRecoverer.Settings(
              s.integer("k", FewShotRecoverer.Settings.DEFAULT_K, 0, 64),
              s.integer("max_prompt_tokens", FewShotRecoverer.Settings.DEFAULT_MAX_PROMPT_TOKENS, 1, 1 << 20),
              s.integer("max_new_tokens", FewShotRecoverer.Settings.DEFAULT_MAX_NEW_TOKENS, 1, 4096),
              s.integer("batch_size", FewShotRecoverer.Settings.DEFAULT_BATCH_SIZE, 1, 4096),
              s.has("response_prefix") ? s.text("response_prefix", null) : null);
          ExampleBank bank = ExampleBank.load(s.requiredPath("examples"), ctx.encoder(s)::embed);
          TextGenerator g = TextGenerator.load(s.requiredPath("model"), null, compute(s));
          try {
            return new FewShotRecoverer(g, bank, settings);
          } catch (RuntimeException e) {
            g.close();
            throw e;
          }
        }, RecovererTypes::compute));
  }

  static {
    register(new Type(RegressorRecoverer.NAME, Set.of("deberta", "head", "sentence_t5", "bank", "top_k", "separator",
        "max_length", "batch_size", "inversion", "inversion_vocabulary_size", "inversion_shortlist",
        "inversion_max_evaluations", "inversion_max_words"), Set.of("deberta", "head", "sentence_t5", "bank"), (s, ctx) -> {
          RegressorRecoverer.Settings d = RegressorRecoverer.Settings.defaults();
          RegressorRecoverer.Inversion i = RegressorRecoverer.Inversion.defaults();
          RegressorRecoverer.Inversion inversion = !s.bool("inversion", false) ? null : new RegressorRecoverer.Inversion(
              s.integer("inversion_vocabulary_size", i.vocabularySize(), 1, 1_000_000),
              s.integer("inversion_shortlist", i.shortlist(), 1, 100_000),
              s.integer("inversion_max_evaluations", i.maxEvaluations(), 1, 10_000_000),
              s.integer("inversion_max_words", i.maxWords(), 1, 256));
          String bank = s.text("bank", null);
          return RegressorRecoverer.load(s.requiredPath("deberta"), s.requiredPath("head"), s.path("sentence_t5"),
              bank.equalsIgnoreCase(PromptBank.BUILTIN) ? bank : s.requiredPath("bank").toString(),
              new RegressorRecoverer.Settings(s.integer("top_k", d.topK(), 1, 100), s.text("separator", d.separator()),
                  s.integer("max_length", d.maxLength(), 2, 1 << 16), s.integer("batch_size", d.batchSize(), 1, 4096),
                  inversion));
        }));
  }

  private RecovererTypes() {}

  /**
   * The {@code compute} key of an LLM recoverer: how the model's weights are held and multiplied, by
   * {@link DecoderCompute}'s names (float32, the default; bf16; as-stored). The old {@code keep_dtype} is still
   * read ({@code true} = as-stored, {@code false} = float32 when alone); given with {@code compute}, the two must
   * agree ({@code keep_dtype} true exactly when {@code compute} is as-stored), else an error naming both.
   */
  static WeightStorage compute(RecoveryConfig.Spec s) {
    WeightStorage c = s.has("compute") ? DecoderCompute.parse(s.text("compute", null), s.where() + ": \"compute\"")
        : null;
    if (!s.has("keep_dtype")) {
      return c != null ? c : WeightStorage.FLOAT32;
    }
    boolean keep = s.bool("keep_dtype", false);
    if (c == null) {
      return keep ? WeightStorage.AS_STORED : WeightStorage.FLOAT32;
    }
    if (keep != (c == WeightStorage.AS_STORED)) {
      throw new IllegalArgumentException(s.where() + ": \"keep_dtype\": " + keep + " disagrees with \"compute\": \""
          + DecoderCompute.name(c) + "\" (\"keep_dtype\": true is the old spelling of \"compute\": \"as-stored\");"
          + " give only \"compute\"");
    }
    return c;
  }

  /** Adds a type (a later registration of the same name replaces the earlier one). */
  public static synchronized void register(Type type) {
    TYPES.put(type.name(), type);
  }

  /** The type of a name, or an error listing the known ones. */
  public static synchronized Type get(String name, String where) {
    Type t = TYPES.get(name);
    if (t == null) {
      throw new IllegalArgumentException(where + ": unknown recoverer type \"" + name + "\" (known: "
          + String.join(", ", TYPES.keySet()) + ")");
    }
    return t;
  }

  public static synchronized Set<String> names() {
    return Set.copyOf(TYPES.keySet());
  }
}
