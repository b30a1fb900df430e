package org.promptrecovery4j.recovery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.promptrecovery4j.models.builtin.BuiltinModels;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;

/**
 * A recovery configuration ({@code predict --config recovery.json}): which recoverers, with which model folders,
 * banks and settings, and how their answers are combined. The schema (docs/pipeline.md):
 *
 * <pre>
 * {
 *   "recoverers": [ {"type": "zero-shot", ...}, {"type": "nearest-examples", "examples": "train.csv"}, ... ],
 *   "ensemble": {"separator": " ", "dedupe": true, "append": "", "fallback": "Rewrite this text."},
 *   "clean_rewritten_text": false,
 *   "batch_size": 16
 * }
 * </pre>
 *
 * Each recoverer type ({@link RecovererTypes}) names the keys it takes; relative paths are resolved against the
 * config file's folder. Unknown keys, unknown types, missing files and folders, and the values a type checks at
 * read time ({@link RecovererTypes.Check}: the LLM recoverers' {@code compute}) are errors naming them, all found
 * by {@link #read} before any model is loaded. {@link #build} then loads the models (sentence encoders named the
 * same way are loaded once and shared).
 */
public final class RecoveryConfig {

  /** Texts a shared encoder remembers (a few batches of rows, banks, examples). */
  static final int MEMO_TEXTS = 50_000;

  private static final Set<String> TOP_KEYS = Set.of("recoverers", "ensemble", "clean_rewritten_text", "batch_size");
  private static final Set<String> ENSEMBLE_KEYS = Set.of("separator", "dedupe", "append", "fallback");

  private final String source;
  private final Path baseDir;
  private final List<ObjectNode> recoverers;
  private final EnsembleRecoverer.Settings ensemble;
  private final boolean cleanRewrittenText;
  private final int batchSize;
  private final JsonNode json;

  private RecoveryConfig(String source, Path baseDir, JsonNode json) {
    this.source = source;
    this.baseDir = baseDir;
    this.json = json;
    if (json == null || !json.isObject()) {
      throw new IllegalArgumentException(source + ": expected a JSON object");
    }
    refuseUnknown(json, TOP_KEYS, source);
    JsonNode list = json.get("recoverers");
    if (list == null || !list.isArray() || list.isEmpty()) {
      throw new IllegalArgumentException(source + ": \"recoverers\" must be a non-empty array");
    }
    this.recoverers = new ArrayList<>();
    Set<String> names = new java.util.HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      JsonNode r = list.get(i);
      String where = source + ": recoverers[" + i + "]";
      if (!r.isObject()) {
        throw new IllegalArgumentException(where + ": expected an object with a \"type\"");
      }
      RecovererTypes.Type type = RecovererTypes.get(text(r, "type", null, where), where);
      Set<String> allowed = new TreeSet<>(type.keys());
      allowed.add("type");
      allowed.add("name");
      refuseUnknown(r, allowed, where + " (" + type.name() + ")");
      for (String key : type.pathKeys()) {
        if (r.has(key)) {
          checkPath(r, key, where);
        }
      }
      type.check().check(new Spec(r, where));
      String name = r.has("name") ? text(r, "name", null, where) : type.name();
      if (name.equals(EnsembleRecoverer.NAME) || name.isBlank()) {
        throw new IllegalArgumentException(where + ": \"" + name + "\" cannot name a recoverer");
      }
      if (!names.add(name)) {
        throw new IllegalArgumentException(where + ": a second recoverer named \"" + name
            + "\": give one of them another \"name\"");
      }
      recoverers.add((ObjectNode) r);
    }
    JsonNode e = json.path("ensemble");
    if (!e.isMissingNode()) {
      if (!e.isObject()) {
        throw new IllegalArgumentException(source + ": \"ensemble\" must be an object");
      }
      refuseUnknown(e, ENSEMBLE_KEYS, source + ": ensemble");
    }
    EnsembleRecoverer.Settings d = EnsembleRecoverer.Settings.defaults();
    this.ensemble = new EnsembleRecoverer.Settings(text(e, "separator", d.separator(), source + ": ensemble"),
        bool(e, "dedupe", d.dedupe(), source + ": ensemble"), text(e, "append", d.append(), source + ": ensemble"),
        text(e, "fallback", d.fallback(), source + ": ensemble"));
    this.cleanRewrittenText = bool(json, "clean_rewritten_text", false, source);
    this.batchSize = integer(json, "batch_size", 16, 1, 4096, source);
  }

  /** Reads and checks a config file (nothing is loaded yet). */
  public static RecoveryConfig read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new java.io.FileNotFoundException(file + ": no such config file");
    }
    JsonNode json;
    try {
      json = new ObjectMapper().readTree(file.toFile());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage());
    }
    Path base = file.toAbsolutePath().getParent();
    return new RecoveryConfig(file.toString(), base, json);
  }

  /** A config from JSON text, paths relative to {@code baseDir}. */
  public static RecoveryConfig parse(String json, Path baseDir) {
    return parse(json, baseDir, "(config)");
  }

  /**
   * A config from JSON text, paths relative to {@code baseDir}, errors naming {@code source}: how a config read on one
   * machine is read again where it runs (a Spark executor: {@link #canonical}, {@link #baseDir}, {@link #source}).
   */
  public static RecoveryConfig parse(String json, Path baseDir, String source) {
    try {
      return new RecoveryConfig(source, baseDir, new ObjectMapper().readTree(json));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(source + ": not valid JSON: " + e.getOriginalMessage());
    }
  }

  /** The embedded default: the built-in zero-shot recoverer alone; no model folder, no download. */
  public static RecoveryConfig embeddedDefault() {
    return parse("{\"recoverers\": [{\"type\": \"zero-shot\"}]}", Path.of("."));
  }

  public String source() {
    return source;
  }

  /** The folder the config's relative paths are resolved against. */
  public Path baseDir() {
    return baseDir;
  }

  public boolean cleanRewrittenText() {
    return cleanRewrittenText;
  }

  public int batchSize() {
    return batchSize;
  }

  public EnsembleRecoverer.Settings ensemble() {
    return ensemble;
  }

  /** The config as JSON (for a job's identity). */
  public String canonical() {
    return json.toString();
  }

  /** Loads every recoverer and returns the ensemble of them (closing what was loaded if one fails). */
  public EnsembleRecoverer build() throws IOException {
    Context ctx = new Context();
    List<PromptRecoverer> built = new ArrayList<>();
    try {
      for (int i = 0; i < recoverers.size(); i++) {
        ObjectNode r = recoverers.get(i);
        String where = source + ": recoverers[" + i + "]";
        RecovererTypes.Type type = RecovererTypes.get(r.get("type").asText(), where);
        PromptRecoverer p = type.factory().create(new Spec(r, where), ctx);
        String name = r.has("name") ? text(r, "name", null, where) : null;
        built.add(name == null ? p : Named.of(p, name));
      }
      return new EnsembleRecoverer(built, ensemble);
    } catch (IOException | RuntimeException e) {
      built.forEach(PromptRecoverer::close);
      throw e;
    }
  }

  /** One recoverer's entry: typed access to its keys, with errors that name the entry. */
  public final class Spec {
    private final JsonNode node;
    private final String where;

    Spec(JsonNode node, String where) {
      this.node = node;
      this.where = where;
    }

    public String where() {
      return where;
    }

    public boolean has(String key) {
      return node.has(key);
    }

    public String text(String key, String fallback) {
      return RecoveryConfig.text(node, key, fallback, where);
    }

    public int integer(String key, int fallback, int min, int max) {
      return RecoveryConfig.integer(node, key, fallback, min, max, where);
    }

    public double number(String key, double fallback, double min, double max) {
      JsonNode v = node.get(key);
      if (v == null) {
        return fallback;
      }
      if (!v.isNumber() || !(v.asDouble() >= min && v.asDouble() <= max)) {
        throw new IllegalArgumentException(where + ": \"" + key + "\" must be a number in [" + min + ", " + max
            + "], is " + v);
      }
      return v.asDouble();
    }

    public boolean bool(String key, boolean fallback) {
      return RecoveryConfig.bool(node, key, fallback, where);
    }

    /** A path key resolved against the config's folder (null when absent). */
    public Path path(String key) {
      return node.has(key) ? resolve(RecoveryConfig.text(node, key, null, where)) : null;
    }

    /** A required path key. */
    public Path requiredPath(String key) {
      Path p = path(key);
      if (p == null) {
        throw new IllegalArgumentException(where + ": \"" + key + "\" is required");
      }
      return p;
    }
  }

  /** What factories share while a config is built: the sentence encoders, by the name or path given. */
  public final class Context {
    private final Map<String, SentenceEmbedder> encoders = new LinkedHashMap<>();

    /** The encoder of a spec's {@code encoder} key (default: the built-in all-MiniLM-L6-v2), loaded once. */
    public SentenceEmbedder encoder(Spec spec) throws IOException {
      String e = spec.text("encoder", BuiltinModels.ALL_MINILM_L6_V2);
      String key = BuiltinModels.isBuiltin(e) ? BuiltinModels.canonicalName(e) : resolve(e).toString();
      SentenceEmbedder s = encoders.get(key);
      if (s == null) {
        s = BuiltinModels.isBuiltin(e) ? BuiltinModels.allMiniLmL6V2() : SentenceEmbedder.load(resolve(e), batchSize);
        s.memoize(MEMO_TEXTS); // recoverers sharing an encoder embed each row's texts once
        encoders.put(key, s);
      }
      return s;
    }

    public int batchSize() {
      return batchSize;
    }
  }

  Path resolve(String p) {
    Path path = Path.of(p);
    return path.isAbsolute() ? path : baseDir.resolve(path).normalize();
  }

  private void checkPath(JsonNode r, String key, String where) {
    String v = text(r, key, null, where);
    if (key.equals("encoder") && BuiltinModels.isBuiltin(v)) {
      return;
    }
    if ((key.equals("bank")) && v.equalsIgnoreCase(PromptBank.BUILTIN)) {
      return;
    }
    Path p = resolve(v);
    if (!Files.exists(p)) {
      throw new IllegalArgumentException(where + ": \"" + key + "\": " + p + " does not exist");
    }
  }

  static void refuseUnknown(JsonNode n, Set<String> allowed, String where) {
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!allowed.contains(k)) {
        throw new IllegalArgumentException(where + ": unknown key \"" + k + "\" (known: " + String.join(", ",
            new TreeSet<>(allowed)) + ")");
      }
    }
  }

  static String text(JsonNode n, String key, String fallback, String where) {
    JsonNode v = n.get(key);
    if (v == null) {
      if (fallback == null) {
        throw new IllegalArgumentException(where + ": \"" + key + "\" is required");
      }
      return fallback;
    }
    if (!v.isTextual()) {
      throw new IllegalArgumentException(where + ": \"" + key + "\" must be a string, is " + v);
    }
    return v.asText();
  }

  static boolean bool(JsonNode n, String key, boolean fallback, String where) {
    JsonNode v = n.get(key);
    if (v == null) {
      return fallback;
    }
    if (!v.isBoolean()) {
      throw new IllegalArgumentException(where + ": \"" + key + "\" must be true or false, is " + v);
    }
    return v.asBoolean();
  }

  static int integer(JsonNode n, String key, int fallback, int min, int max, String where) {
    JsonNode v = n.get(key);
    if (v == null) {
      return fallback;
    }
    if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < min || v.asInt() > max) {
      throw new IllegalArgumentException(where + ": \"" + key + "\" must be an integer in [" + min + ", " + max
          + "], is " + v);
    }
    return v.asInt();
  }

  /** A recoverer under the name a config gives it. */
  record Named(PromptRecoverer inner, String name) implements PromptRecoverer {
    static PromptRecoverer of(PromptRecoverer p, String name) {
      return new Named(p, name);
    }

    @Override
    public List<String> recoverAll(List<KaggleRow> rows) {
      return inner.recoverAll(rows);
    }

    @Override
    public void excludeTruePrompts(boolean on) {
      inner.excludeTruePrompts(on);
    }

    @Override
    public void close() {
      inner.close();
    }
  }
}
