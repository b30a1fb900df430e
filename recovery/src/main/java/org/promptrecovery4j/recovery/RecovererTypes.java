package org.promptrecovery4j.recovery;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

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

  /** A type: its name, its keys, the keys that are paths, its factory. */
  public record Type(String name, Set<String> keys, Set<String> pathKeys, Factory factory) {}

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
          return new NearestExamplesRecoverer(ctx.encoder(s), KaggleCsv.read(s.requiredPath("examples")),
              new NearestExamplesRecoverer.Settings(s.integer("k", d.k(), 1, 1000),
                  s.number("rewritten_weight", d.rewrittenWeight(), 0, 100),
                  s.number("change_weight", d.changeWeight(), 0, 100),
                  s.number("original_weight", d.originalWeight(), 0, 100)));
        }));
  }

  private RecovererTypes() {}

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
