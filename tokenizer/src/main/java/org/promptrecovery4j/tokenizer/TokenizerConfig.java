package org.promptrecovery4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What {@code tokenizer_config.json} says: special tokens, whether BOS/EOS are added, the chat
 * template, the maximum length. All fields may be null/absent.
 */
public record TokenizerConfig(
    String tokenizerClass,
    String bosToken,
    String eosToken,
    String unkToken,
    String padToken,
    String sepToken,
    String clsToken,
    String maskToken,
    List<String> additionalSpecialTokens,
    Boolean addBosToken,
    Boolean addEosToken,
    Boolean cleanUpTokenizationSpaces,
    Boolean legacy,
    String chatTemplate,
    Long modelMaxLength,
    JsonNode raw) {

  public static final TokenizerConfig EMPTY = new TokenizerConfig(null, null, null, null, null, null, null, null,
      List.of(), null, null, null, null, null, null, null);

  public static TokenizerConfig read(Path file) throws IOException {
    JsonNode n;
    try {
      n = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new TokenizerException(file + ": not valid JSON: " + e.getMessage(), e);
    }
    return fromJson(n);
  }

  public static TokenizerConfig fromJson(JsonNode n) {
    List<String> extra = new ArrayList<>();
    JsonNode a = n.get("additional_special_tokens");
    if (a != null && a.isArray()) {
      for (JsonNode x : a) {
        String s = tokenString(x);
        if (s != null) {
          extra.add(s);
        }
      }
    }
    String chat = null;
    JsonNode ct = n.get("chat_template");
    if (ct != null && ct.isTextual()) {
      chat = ct.asText();
    } else if (ct != null && ct.isArray()) {
      for (JsonNode x : ct) {
        if ("default".equals(x.path("name").asText())) {
          chat = x.path("template").asText(null);
        }
      }
      if (chat == null && ct.size() > 0) {
        chat = ct.get(0).path("template").asText(null);
      }
    }
    Long maxLen = null;
    JsonNode ml = n.get("model_max_length");
    if (ml != null && ml.isNumber()) {
      double d = ml.asDouble();
      maxLen = d >= Long.MAX_VALUE ? Long.MAX_VALUE : ml.asLong();
    }
    return new TokenizerConfig(text(n, "tokenizer_class"), tokenString(n.get("bos_token")),
        tokenString(n.get("eos_token")), tokenString(n.get("unk_token")), tokenString(n.get("pad_token")),
        tokenString(n.get("sep_token")), tokenString(n.get("cls_token")), tokenString(n.get("mask_token")),
        Collections.unmodifiableList(extra), bool(n, "add_bos_token"), bool(n, "add_eos_token"),
        bool(n, "clean_up_tokenization_spaces"), bool(n, "legacy"), chat, maxLen, n);
  }

  private static String text(JsonNode n, String f) {
    JsonNode x = n.get(f);
    return x == null || x.isNull() ? null : x.asText();
  }

  private static Boolean bool(JsonNode n, String f) {
    JsonNode x = n.get(f);
    return x == null || x.isNull() ? null : x.asBoolean();
  }

  /** A special token given as a string or as {"content": ...}. */
  static String tokenString(JsonNode x) {
    if (x == null || x.isNull()) {
      return null;
    }
    if (x.isTextual()) {
      return x.asText();
    }
    JsonNode c = x.get("content");
    return c == null || c.isNull() ? null : c.asText();
  }
}
