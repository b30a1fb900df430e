package org.promptrecovery4j.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The JSONL jobs behind {@code prompt-recovery tokenize} / {@code detokenize}: each input line
 * gives one output line, in order. The output is written to a temporary file in the same folder
 * and moved into place, so a failure leaves nothing half-written.
 */
public final class JsonlTokenization {
  private static final ObjectMapper JSON = new ObjectMapper();

  private JsonlTokenization() {}

  /** {"text": "..."} lines to {"ids": [...], "tokens": [...]} lines. Returns the line count. */
  public static int tokenize(Tokenizer tok, Path in, Path out, boolean addSpecialTokens) throws IOException {
    return process(in, out, (node, lineNo) -> {
      JsonNode t = node.get("text");
      if (t == null || !t.isTextual()) {
        throw new TokenizerException(in + " line " + lineNo + ": no string field \"text\"");
      }
      Encoding e = tok.encode(t.asText(), addSpecialTokens);
      ObjectNode o = JSON.createObjectNode();
      ArrayNode ids = o.putArray("ids");
      for (int id : e.ids()) {
        ids.add(id);
      }
      ArrayNode toks = o.putArray("tokens");
      for (String s : e.tokens()) {
        toks.add(s);
      }
      return o;
    });
  }

  /** {"ids": [...]} lines to {"text": "..."} lines. Returns the line count. */
  public static int detokenize(Tokenizer tok, Path in, Path out, boolean skipSpecialTokens) throws IOException {
    return process(in, out, (node, lineNo) -> {
      JsonNode a = node.get("ids");
      if (a == null || !a.isArray()) {
        throw new TokenizerException(in + " line " + lineNo + ": no array field \"ids\"");
      }
      int[] ids = new int[a.size()];
      for (int i = 0; i < ids.length; i++) {
        JsonNode x = a.get(i);
        if (!x.isIntegralNumber() || !x.canConvertToInt()) {
          throw new TokenizerException(in + " line " + lineNo + ": ids[" + i + "] = " + x + " is not an integer id");
        }
        ids[i] = x.asInt();
      }
      String text;
      try {
        text = tok.decode(ids, skipSpecialTokens);
      } catch (TokenizerException e) {
        throw new TokenizerException(in + " line " + lineNo + ": " + e.getMessage(), e);
      }
      ObjectNode o = JSON.createObjectNode();
      o.put("text", text);
      return o;
    });
  }

  private interface LineJob {
    JsonNode apply(JsonNode node, int lineNo);
  }

  private static int process(Path in, Path out, LineJob job) throws IOException {
    if (!Files.isRegularFile(in)) {
      throw new TokenizerException(in + ": no such input file");
    }
    Path target = out.toAbsolutePath();
    Path dir = target.getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
    int n = 0;
    boolean ok = false;
    try {
      try (BufferedReader r = Files.newBufferedReader(in, StandardCharsets.UTF_8);
          BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        String line;
        int lineNo = 0;
        while ((line = r.readLine()) != null) {
          lineNo++;
          if (line.isBlank()) {
            continue;
          }
          JsonNode node;
          try {
            node = JSON.readTree(line);
          } catch (JsonProcessingException e) {
            throw new TokenizerException(in + " line " + lineNo + ": malformed JSON: " + e.getOriginalMessage());
          }
          if (node == null || !node.isObject()) {
            throw new TokenizerException(in + " line " + lineNo + ": expected a JSON object");
          }
          w.write(JSON.writeValueAsString(job.apply(node, lineNo)));
          w.write('\n');
          n++;
        }
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      ok = true;
      return n;
    } finally {
      if (!ok) {
        Files.deleteIfExists(tmp);
      }
    }
  }
}
