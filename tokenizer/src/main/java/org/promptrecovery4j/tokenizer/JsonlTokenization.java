package org.promptrecovery4j.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.promptrecovery4j.core.AtomicFiles;

/**
 * The JSONL jobs behind {@code prompt-recovery tokenize} / {@code detokenize}: each input line
 * gives one output line, in order, streamed through {@link AtomicFiles}: a failure or a kill leaves
 * the output as it was or complete, never half-written.
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
    int[] n = {0};
    AtomicFiles.write(out, stream -> {
      Writer w = new BufferedWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8));
      int lineNo = 0;
      try (BufferedReader r = Files.newBufferedReader(in, StandardCharsets.UTF_8)) {
        String line;
        while (true) {
          try {
            line = r.readLine();
          } catch (java.nio.charset.CharacterCodingException e) {
            throw new TokenizerException(in + " line " + (lineNo + 1) + " or soon after: not valid UTF-8", e);
          }
          if (line == null) {
            break;
          }
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
          n[0]++;
        }
      }
      w.flush();
    });
    return n[0];
  }
}
