package org.promptrecovery4j.recovery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.promptrecovery4j.core.AtomicFiles;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.core.JobState;
import org.promptrecovery4j.core.Progress;
import org.promptrecovery4j.core.PythonText;
import org.promptrecovery4j.core.TestHooks;
import org.promptrecovery4j.models.DecoderCompute;
import org.promptrecovery4j.models.TokenizerCodecs;
import org.promptrecovery4j.models.generation.ChatTemplate;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;
import org.promptrecovery4j.models.generation.GenerationConfig;
import org.promptrecovery4j.models.generation.Generator;
import org.promptrecovery4j.models.generation.PromptCodec;

/**
 * The {@code rewrite} job: training data made as the competition made it. Each pair of the {@link RewritePlan} (an
 * original text and a rewrite prompt) is sent to an instruct model as one user turn through its chat template,
 * {@link #userTurn} = {@code "<prompt>\n\n<original>"}, and the model's answer (greedy by default, or sampled with a
 * seed), cleaned by {@link RewrittenTextCleaner} (the seed's {@code fix_prompt}), is the rewritten text. Output: a
 * CSV {@code id,original_text,rewritten_text,rewrite_prompt} in plan order, ids {@code t<i>-p<j>}.
 *
 * <p>Inputs: the originals are the {@code original_text} column of a CSV, distinct, in first-seen order (original
 * {@code i} is the i-th distinct text; a blank one is an error naming its row); the prompts a {@link PromptBank} file
 * (.json, .txt or .csv; prompt {@code j} is its j-th distinct prompt, trimmed). Every pair's prompt is checked to fit the model's
 * context with {@code maxNewTokens} to spare before anything is generated.
 *
 * <p>Resumable: finished batches go to {@code OUTPUT.partial} (one JSON line per row, {@code {"id", "rewritten_text"}},
 * appended a batch at a time and forced to disk) beside {@code OUTPUT.partial.json} (the inputs' hashes, the model's
 * fingerprint and the settings, {@link JobState}). A killed run loses at most the batch in flight: the next run with
 * the same inputs and settings keeps the whole batches on disk (a torn last line or a partial batch is cut away) and
 * goes on from there, batch boundaries and sampling seeds unchanged, so the output is byte for byte that of a run
 * never stopped. The CSV is written atomically at the end, then both side files are removed; a run that finds the
 * complete output of the same plan already there does nothing.
 *
 * <p>Test hook (never set outside tests): with {@value #PAUSE_AFTER_BATCHES_PROPERTY} = N the job stops after its
 * N-th appended batch, creates the file named by {@value #PAUSE_MARKER_PROPERTY} and sleeps, to be killed.
 */
public final class RewriteJob {

  public static final String PAUSE_AFTER_BATCHES_PROPERTY = "pr4j.test.rewrite.pauseAfterBatches";
  public static final String PAUSE_MARKER_PROPERTY = "pr4j.test.rewrite.pauseMarker";

  /** The output's columns. */
  public static final List<String> HEADER = List.of(KaggleCsv.ID, KaggleCsv.ORIGINAL_TEXT, KaggleCsv.REWRITTEN_TEXT,
      KaggleCsv.REWRITE_PROMPT);

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JobState STATE = new JobState("pr4j-rewrite-1", "rewrite", Map.ofEntries(
      Map.entry("texts_bytes", "--texts (its size)"),
      Map.entry("texts_sha256", "--texts (its content)"),
      Map.entry("prompts_bytes", "--prompts (its size)"),
      Map.entry("prompts_sha256", "--prompts (its content)"),
      Map.entry("model", "--model (its files)"),
      Map.entry("max_new_tokens", "--max-new-tokens"),
      Map.entry("batch_size", "--batch-size"),
      Map.entry("seed", "--seed"),
      Map.entry("pairs", "--pairs"),
      Map.entry("temperature", "--temperature"),
      Map.entry("top_p", "--top-p"),
      Map.entry("compute", "--compute"),
      Map.entry("rows", "the number of rows")));

  /**
   * What to generate.
   *
   * @param model the instruct model's HF folder (with its tokenizer and chat template)
   * @param texts a CSV with an {@code original_text} column
   * @param prompts the rewrite prompts: a {@link PromptBank} file (.json, .txt, .csv)
   * @param output the CSV to write
   * @param maxNewTokens tokens per rewrite at most (default {@value #DEFAULT_MAX_NEW_TOKENS})
   * @param batchSize pairs generated together (default {@value #DEFAULT_BATCH_SIZE})
   * @param seed seeds the random pairs and the sampling (row at position p samples with seed + p)
   * @param pairs how many random pairs, or null for the full cross product
   * @param temperature sampling temperature, or null for greedy decoding
   * @param topP nucleus mass when sampling (1 = off)
   * @param compute how the model's weights are held and multiplied ({@link DecoderCompute}: float32, bf16,
   *     as-stored)
   */
  public record Settings(Path model, Path texts, Path prompts, Path output, int maxNewTokens, int batchSize, long seed,
      Integer pairs, Double temperature, double topP, WeightStorage compute) {

    public static final int DEFAULT_MAX_NEW_TOKENS = 256;
    public static final int DEFAULT_BATCH_SIZE = 8;

    public Settings {
      java.util.Objects.requireNonNull(compute, "compute");
      if (maxNewTokens < 1 || batchSize < 1) {
        throw new IllegalArgumentException("--max-new-tokens and --batch-size must be at least 1, are " + maxNewTokens
            + " and " + batchSize);
      }
      if (temperature != null && !(temperature > 0)) {
        throw new IllegalArgumentException("--temperature must be > 0, is " + temperature);
      }
      if (!(topP > 0 && topP <= 1)) {
        throw new IllegalArgumentException("--top-p must be in (0, 1], is " + topP);
      }
    }

    /**
     * Greedy, {@value #DEFAULT_MAX_NEW_TOKENS} new tokens, batches of {@value #DEFAULT_BATCH_SIZE}, the cross product,
     * float32.
     */
    public static Settings of(Path model, Path texts, Path prompts, Path output) {
      return new Settings(model, texts, prompts, output, DEFAULT_MAX_NEW_TOKENS, DEFAULT_BATCH_SIZE, 0, null, null, 1.0,
          WeightStorage.FLOAT32);
    }

    public Settings withMaxNewTokens(int n) {
      return new Settings(model, texts, prompts, output, n, batchSize, seed, pairs, temperature, topP, compute);
    }

    public Settings withBatchSize(int n) {
      return new Settings(model, texts, prompts, output, maxNewTokens, n, seed, pairs, temperature, topP, compute);
    }

    public Settings withSeed(long s) {
      return new Settings(model, texts, prompts, output, maxNewTokens, batchSize, s, pairs, temperature, topP, compute);
    }

    public Settings withPairs(Integer n) {
      return new Settings(model, texts, prompts, output, maxNewTokens, batchSize, seed, n, temperature, topP, compute);
    }

    public Settings withSampling(Double t, double p) {
      return new Settings(model, texts, prompts, output, maxNewTokens, batchSize, seed, pairs, t, p, compute);
    }

    public Settings withCompute(WeightStorage c) {
      return new Settings(model, texts, prompts, output, maxNewTokens, batchSize, seed, pairs, temperature, topP, c);
    }

    public Settings withOutput(Path o) {
      return new Settings(model, texts, prompts, o, maxNewTokens, batchSize, seed, pairs, temperature, topP, compute);
    }
  }

  /**
   * What a run did.
   *
   * @param rows rows in the output
   * @param resumedRows rows an earlier run had finished (all of them when the output was already complete)
   * @param emptyRewrites rows whose rewrite the cleaning emptied (refusals)
   */
  public record Result(int rows, int resumedRows, int emptyRewrites) {}

  /** The originals and prompts, read and checked. */
  public record Inputs(List<String> originals, List<Long> originalLines, PromptBank prompts, RewritePlan plan) {

    public String original(RewritePlan.Pair p) {
      return originals.get(p.text());
    }

    public String prompt(RewritePlan.Pair p) {
      return prompts.get(p.prompt());
    }
  }

  private RewriteJob() {}

  /** The user turn for one pair. */
  public static String userTurn(String prompt, String original) {
    return prompt + "\n\n" + original;
  }

  /** The prompt ids of one pair: the user turn through the chat template, the model's turn opened. */
  public static int[] promptIds(String prompt, String original, PromptCodec codec, ChatTemplate template) {
    return codec.encode(template.prompt(userTurn(prompt, original), null), false);
  }

  /** Reads the originals and prompts and draws the plan. */
  public static Inputs inputs(Settings s) throws IOException {
    if (!Files.isRegularFile(s.texts())) {
      throw new java.io.FileNotFoundException(s.texts() + ": no such file (--texts)");
    }
    Csv.Table t = Csv.read(s.texts());
    int column = t.column(KaggleCsv.ORIGINAL_TEXT, s.texts());
    Map<String, Long> distinct = new LinkedHashMap<>();
    for (int r = 0; r < t.rows().size(); r++) {
      String o = t.rows().get(r).get(column);
      if (PythonText.isBlank(o)) {
        throw new IllegalArgumentException(s.texts() + ": row " + (r + 1) + " (line " + t.line(r) + "): empty "
            + KaggleCsv.ORIGINAL_TEXT);
      }
      distinct.putIfAbsent(o, t.line(r));
    }
    if (distinct.isEmpty()) {
      throw new IllegalArgumentException(s.texts() + ": no rows");
    }
    PromptBank prompts = PromptBank.load(s.prompts());
    RewritePlan plan = s.pairs() == null ? RewritePlan.crossProduct(distinct.size(), prompts.size())
        : RewritePlan.random(distinct.size(), prompts.size(), s.pairs(), s.seed());
    return new Inputs(new ArrayList<>(distinct.keySet()), new ArrayList<>(distinct.values()), prompts, plan);
  }

  /** Runs (or resumes) the job and writes the output. */
  public static Result run(Settings s) throws IOException {
    Inputs in = inputs(s);
    RewritePlan plan = in.plan();
    if (Files.exists(s.output()) && !Files.exists(JobState.stateFile(s.output())) && isComplete(s.output(), in)) {
      int empty = countEmpty(s.output());
      System.err.println(s.output() + " already holds the " + plan.size() + " rows of this plan: nothing to do (delete"
          + " it to generate again)");
      return new Result(plan.size(), plan.size(), empty);
    }
    PromptCodec codec = TokenizerCodecs.load(s.model());
    ChatTemplate template = codec.chatTemplate();
    if (template == null) {
      throw new IllegalArgumentException(s.model() + ": the tokenizer has no chat_template (tokenizer_config.json):"
          + " rewriting needs an instruct model");
    }
    STATE.startOrCheck(s.output(), state(s, plan, JobState.stateFile(s.output())));
    int done;
    int resumed;
    try (TextGenerator generator = TextGenerator.load(s.model(), codec, null, s.compute());
        PartialRewrites partial = PartialRewrites.resume(JobState.partialFile(s.output()), plan, s.batchSize())) {
      resumed = partial.records();
      checkLengths(in, resumed, codec, template, generator.context(), s);
      generate(in, generator, template, partial, s);
      done = partial.records();
    }
    int empty = writeOutput(s.output(), in, done);
    Files.deleteIfExists(JobState.partialFile(s.output()));
    Files.deleteIfExists(JobState.stateFile(s.output()));
    return new Result(done, resumed, empty);
  }

  /**
   * What this run is, to write to or compare with {@code stateFile}. A state file written before the compute was
   * recorded has no {@code compute}: its run computed in float32 (float32, or --keep-dtype's as-stored upcasting bf16
   * per use), so it resumes with float32 or as-stored as before, and bf16 is refused.
   */
  private static Map<String, Object> state(Settings s, RewritePlan plan, Path stateFile) throws IOException {
    Map<String, Object> m = STATE.start();
    m.put("texts_bytes", Files.size(s.texts()));
    m.put("texts_sha256", JobState.sha256(s.texts()));
    m.put("prompts_bytes", Files.size(s.prompts()));
    m.put("prompts_sha256", JobState.sha256(s.prompts()));
    m.put("model", JobState.modelFingerprint(s.model()));
    m.put("max_new_tokens", s.maxNewTokens());
    m.put("batch_size", s.batchSize());
    m.put("seed", s.seed());
    m.put("pairs", s.pairs() == null ? "all" : s.pairs());
    m.put("temperature", s.temperature() == null ? "greedy" : s.temperature());
    m.put("top_p", s.topP());
    m.put("compute", DecoderCompute.name(s.compute()));
    m.put("rows", plan.size());
    Map<String, Object> saved = Files.exists(stateFile) ? STATE.read(stateFile) : null;
    if (saved != null && m.get("format").equals(saved.get("format")) && !saved.containsKey("compute")) {
      if (s.compute() == WeightStorage.BF16) {
        throw new IllegalArgumentException(stateFile + ": an interrupted run with different --compute left its partial"
            + " results here (was float32, now bf16: a state from before --compute was recorded); rerun with"
            + " --compute float32 or as-stored to resume it, or delete " + stateFile.getFileName() + " and "
            + JobState.partialFile(s.output()).getFileName() + " to start over");
      }
      m.remove("compute");
    }
    return m;
  }

  /** Every pair still to do must fit the context with {@code maxNewTokens} to spare: checked before generating. */
  private static void checkLengths(Inputs in, int from, PromptCodec codec, ChatTemplate template, int context,
      Settings s) {
    int budget = context - s.maxNewTokens();
    for (int p = from; p < in.plan().size(); p++) {
      RewritePlan.Pair pair = in.plan().get(p);
      int n = promptIds(in.prompt(pair), in.original(pair), codec, template).length;
      if (n > budget) {
        throw new IllegalArgumentException(pair.id() + " (" + s.texts() + " line " + in.originalLines().get(pair.text())
            + ", prompt " + pair.prompt() + " of " + s.prompts() + "): the prompt has " + n + " tokens; with"
            + " --max-new-tokens " + s.maxNewTokens() + " it does not fit the model's context of " + context
            + " tokens; shorten or drop that original, or ask for fewer new tokens");
      }
    }
  }

  private static void generate(Inputs in, TextGenerator generator, ChatTemplate template, PartialRewrites partial,
      Settings s) throws IOException {
    RewritePlan plan = in.plan();
    int done = partial.records();
    if (done > 0) {
      System.err.println("resuming: " + done + " of " + plan.size() + " rows already in " + partial.file());
    }
    int pauseAfter = Integer.getInteger(PAUSE_AFTER_BATCHES_PROPERTY, -1);
    int batches = 0;
    GenerationConfig greedy = generator.greedy(s.maxNewTokens(), s.batchSize());
    try (Progress progress = Progress.start("rewrite (rows)", plan.size() - done, Progress.Unit.ITEMS)) {
      for (int start = done; start < plan.size(); start += s.batchSize()) {
        int end = Math.min(plan.size(), start + s.batchSize());
        List<String> prompts = new ArrayList<>(end - start);
        List<String> originals = new ArrayList<>(end - start);
        for (int p = start; p < end; p++) {
          RewritePlan.Pair pair = plan.get(p);
          prompts.add(in.prompt(pair));
          originals.add(in.original(pair));
        }
        // the row at position p samples with seed + p: the Generator seeds its i-th prompt with seed + i
        GenerationConfig config = s.temperature() == null ? greedy
            : greedy.sampling(s.temperature(), 0, s.topP(), s.seed() + start);
        List<String> rewrites = rewriteBatch(prompts, originals, generator, template, config);
        List<String[]> records = new ArrayList<>(end - start);
        for (int p = start; p < end; p++) {
          records.add(new String[] {plan.get(p).id(), rewrites.get(p - start)});
        }
        partial.append(records);
        progress.advance(end - start);
        if (++batches == pauseAfter) {
          TestHooks.pauseUntilKilled(PAUSE_MARKER_PROPERTY, "rewrite (" + PAUSE_AFTER_BATCHES_PROPERTY + ")");
        }
      }
    }
  }

  /**
   * One batch of the job: each (prompt, original) pair as one user turn through {@code template}, generated at once
   * with {@code config} (the job's: {@link TextGenerator#greedy} with its max new tokens and batch size, or sampling),
   * each answer cleaned by {@link RewrittenTextCleaner}. The rewrites in the pairs' order. Also the step of each batch
   * of the Spark job (spark module's {@code SparkRewrite}).
   */
  public static List<String> rewriteBatch(List<String> prompts, List<String> originals, TextGenerator generator,
      ChatTemplate template, GenerationConfig config) {
    if (prompts.size() != originals.size()) {
      throw new IllegalArgumentException(prompts.size() + " prompts but " + originals.size() + " originals");
    }
    List<int[]> ids = new ArrayList<>(prompts.size());
    for (int i = 0; i < prompts.size(); i++) {
      ids.add(promptIds(prompts.get(i), originals.get(i), generator.codec(), template));
    }
    List<Generator.Result> results = generator.generate(ids, config);
    List<String> out = new ArrayList<>(results.size());
    for (Generator.Result r : results) {
      out.add(RewrittenTextCleaner.clean(r.text()));
    }
    return out;
  }

  /** The CSV, atomically, from the side file's records in plan order; returns how many rewrites are empty. */
  private static int writeOutput(Path output, Inputs in, int rows) throws IOException {
    int[] empty = {0};
    try (BufferedReader r = Files.newBufferedReader(JobState.partialFile(output), StandardCharsets.UTF_8)) {
      AtomicFiles.write(output, out -> {
        Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
        Csv.writeRecord(w, HEADER);
        for (int p = 0; p < rows; p++) {
          RewritePlan.Pair pair = in.plan().get(p);
          String rewritten = PartialRewrites.parse(r.readLine(), pair.id(), p, JobState.partialFile(output));
          if (rewritten.isEmpty()) {
            empty[0]++;
          }
          Csv.writeRecord(w, List.of(pair.id(), in.original(pair), rewritten, in.prompt(pair)));
        }
        w.flush();
      });
    }
    return empty[0];
  }

  /** Whether {@code output} is the complete CSV of this plan (ids, originals and prompts in order). */
  private static boolean isComplete(Path output, Inputs in) {
    try {
      Csv.Table t = Csv.read(output);
      if (!t.header().equals(HEADER) || t.rows().size() != in.plan().size()) {
        return false;
      }
      for (int p = 0; p < t.rows().size(); p++) {
        RewritePlan.Pair pair = in.plan().get(p);
        List<String> row = t.rows().get(p);
        if (!row.get(0).equals(pair.id()) || !row.get(1).equals(in.original(pair)) || !row.get(3).equals(in.prompt(pair))) {
          return false;
        }
      }
      return true;
    } catch (IOException | RuntimeException e) {
      return false; // not ours: it is replaced at the end
    }
  }

  private static int countEmpty(Path output) throws IOException {
    int n = 0;
    for (List<String> row : Csv.read(output).rows()) {
      n += row.get(2).isEmpty() ? 1 : 0;
    }
    return n;
  }

  /**
   * The side file {@code OUTPUT.partial}: one JSON line {@code {"id": ..., "rewritten_text": ...}} per finished row in
   * plan order, appended a batch at a time and forced to disk. A kill leaves whole batches and at most a torn end;
   * {@link #resume} keeps the whole batches (line {@code p} must be the plan's row {@code p}) and cuts the rest.
   */
  static final class PartialRewrites implements AutoCloseable {
    private final AtomicFiles.Appender appender;
    private int records;

    private PartialRewrites(Path file, long keepBytes, int records) throws IOException {
      this.appender = AtomicFiles.openAppender(file, keepBytes);
      this.records = records;
    }

    static PartialRewrites resume(Path file, RewritePlan plan, int batchSize) throws IOException {
      List<Long> ends = new ArrayList<>(); // the byte offset after each whole line
      if (Files.exists(file)) {
        byte[] bytes = Files.readAllBytes(file);
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
          if (bytes[i] == '\n') {
            if (ends.size() >= plan.size()) {
              throw new IllegalArgumentException(file + ": holds more than the " + plan.size() + " rows of this run:"
                  + " it does not belong to this run; delete it (and its .json) to start over");
            }
            parse(new String(bytes, start, i - start, StandardCharsets.UTF_8), plan.get(ends.size()).id(), ends.size(),
                file);
            ends.add((long) i + 1);
            start = i + 1;
          }
        }
      }
      int whole = ends.size();
      int keep = whole == plan.size() ? whole : whole / batchSize * batchSize;
      return new PartialRewrites(file, keep == 0 ? 0 : ends.get(keep - 1), keep);
    }

    /** The rewritten text of line {@code p}, which must be the row {@code id}. */
    static String parse(String line, String id, int p, Path file) {
      JsonNode n;
      try {
        n = line == null ? null : JSON.readTree(line);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        n = null;
      }
      if (n == null || !n.isObject() || !n.path("id").isTextual() || !n.path("rewritten_text").isTextual()) {
        throw new IllegalArgumentException(file + ": line " + (p + 1) + " is not a rewrite record: the file does not"
            + " belong to this run; delete it (and its .json) to start over");
      }
      if (!n.get("id").asText().equals(id)) {
        throw new IllegalArgumentException(file + ": line " + (p + 1) + " is row " + n.get("id").asText() + ", this run"
            + " puts " + id + " there: the file does not belong to this run; delete it (and its .json) to start over");
      }
      return n.get("rewritten_text").asText();
    }

    int records() {
      return records;
    }

    Path file() {
      return appender.file();
    }

    /** Appends one finished batch ({@code [id, rewritten]} per row) and forces it to disk. */
    void append(List<String[]> rows) throws IOException {
      StringBuilder b = new StringBuilder();
      for (String[] r : rows) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", r[0]);
        n.put("rewritten_text", r[1]);
        b.append(JSON.writeValueAsString(n)).append('\n');
      }
      appender.append(b.toString().getBytes(StandardCharsets.UTF_8));
      records += rows.size();
    }

    @Override
    public void close() throws IOException {
      appender.close();
    }
  }
}
