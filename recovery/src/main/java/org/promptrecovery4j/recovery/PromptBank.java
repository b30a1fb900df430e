package org.promptrecovery4j.recovery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

/**
 * A list of candidate prompts, distinct and non-blank, trimmed. Read from a {@code .txt} file (one prompt per
 * line), a {@code .json} file (an array of strings, or of objects with a {@code prompt} field), or a {@code .csv}
 * file (its {@code rewrite_prompt} column); {@link #builtin()} is the bank the project ships (written by hand:
 * forms, tones, styles, audiences, languages, lengths).
 */
public record PromptBank(String source, List<String> prompts) {

  public static final String BUILTIN = "builtin";
  private static final String RESOURCE = "builtin-prompts.txt";

  public PromptBank {
    if (prompts.isEmpty()) {
      throw new IllegalArgumentException(source + ": the prompt bank is empty");
    }
    prompts = List.copyOf(prompts);
  }

  /** The shipped bank of rewrite prompts. */
  public static PromptBank builtin() {
    try (InputStream in = PromptBank.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("the built-in prompt bank " + RESOURCE + " is missing from the jar");
      }
      return fromLines(BUILTIN, new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** {@code builtin} or a file. */
  public static PromptBank load(String spec) throws IOException {
    return spec.equalsIgnoreCase(BUILTIN) ? builtin() : load(Path.of(spec));
  }

  /** A bank from a .txt, .json or .csv file. */
  public static PromptBank load(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new java.io.FileNotFoundException(file + ": no such prompt bank file");
    }
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".json")) {
      JsonNode root = new ObjectMapper().readTree(file.toFile());
      if (root == null || !root.isArray()) {
        throw new IllegalArgumentException(file + ": expected a JSON array of prompts");
      }
      List<String> out = new ArrayList<>();
      for (int i = 0; i < root.size(); i++) {
        JsonNode n = root.get(i);
        JsonNode p = n.isObject() ? n.get("prompt") : n;
        if (p == null || !p.isTextual()) {
          throw new IllegalArgumentException(file + ": entry " + i + " is not a prompt string (nor an object with"
              + " a \"prompt\" string)");
        }
        out.add(p.asText());
      }
      return fromLines(file.toString(), out);
    }
    if (name.endsWith(".csv")) {
      org.promptrecovery4j.core.Csv.Table t = org.promptrecovery4j.core.Csv.read(file);
      int c = t.column("rewrite_prompt", file);
      return fromLines(file.toString(), t.rows().stream().map(r -> c < r.size() ? r.get(c) : "").toList());
    }
    return fromLines(file.toString(), Files.readAllLines(file, StandardCharsets.UTF_8));
  }

  /** Distinct, trimmed, non-blank prompts in first-seen order. */
  public static PromptBank fromLines(String source, List<String> lines) {
    LinkedHashSet<String> seen = new LinkedHashSet<>();
    for (String l : lines) {
      String p = l.strip();
      if (!p.isEmpty()) {
        seen.add(p);
      }
    }
    return new PromptBank(source, new ArrayList<>(seen));
  }

  /** This bank without the prompts of {@code excluded} (e.g. a row's true prompt when scoring it). */
  public PromptBank without(java.util.Collection<String> excluded) {
    java.util.Set<String> ex = new java.util.HashSet<>();
    excluded.forEach(e -> ex.add(e.strip()));
    return new PromptBank(source, prompts.stream().filter(p -> !ex.contains(p)).toList());
  }

  public int size() {
    return prompts.size();
  }

  public String get(int i) {
    return prompts.get(i);
  }
}
