package org.promptrecovery4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.promptrecovery4j.tokenizer.decoder.Decoder;
import org.promptrecovery4j.tokenizer.decoder.Decoders;
import org.promptrecovery4j.tokenizer.model.Bpe;
import org.promptrecovery4j.tokenizer.model.Model;
import org.promptrecovery4j.tokenizer.model.Unigram;
import org.promptrecovery4j.tokenizer.model.Vocab;
import org.promptrecovery4j.tokenizer.model.WordLevel;
import org.promptrecovery4j.tokenizer.model.WordPiece;
import org.promptrecovery4j.tokenizer.normalizer.Normalizer;
import org.promptrecovery4j.tokenizer.normalizer.Normalizers;
import org.promptrecovery4j.tokenizer.normalizer.Precompiled;
import org.promptrecovery4j.tokenizer.pretokenizer.PreTokenizer;
import org.promptrecovery4j.tokenizer.pretokenizer.PreTokenizers;
import org.promptrecovery4j.tokenizer.pretokenizer.SplitBehavior;
import org.promptrecovery4j.tokenizer.processor.PostProcessor;
import org.promptrecovery4j.tokenizer.processor.PostProcessors;

/** Reads HF's {@code tokenizer.json} (the fast-tokenizer format) into a {@link Tokenizer}. */
public final class TokenizerJson {
  private TokenizerJson() {}

  public static Tokenizer load(Path file, TokenizerConfig config) throws IOException {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new TokenizerException(file + ": not valid JSON: " + e.getMessage(), e);
    }
    try {
      return fromJson(root, config);
    } catch (TokenizerException e) {
      throw new TokenizerException(file + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new TokenizerException(file + ": " + e.getMessage(), e);
    }
  }

  public static Tokenizer fromJson(JsonNode root, TokenizerConfig config) {
    Normalizer normalizer = normalizer(root.get("normalizer"));
    PreTokenizer pre = preTokenizer(root.get("pre_tokenizer"));
    Model model = model(root.get("model"));
    PostProcessor post = postProcessor(root.get("post_processor"), model, root);
    Decoder decoder = decoder(root.get("decoder"));
    List<AddedToken> addedTokens = new ArrayList<>();
    JsonNode at = root.get("added_tokens");
    if (at != null && at.isArray()) {
      for (JsonNode t : at) {
        addedTokens.add(new AddedToken(id(t.get("id"), "added token"), t.path("content").asText(),
            t.path("special").asBoolean(false), t.path("lstrip").asBoolean(false), t.path("rstrip").asBoolean(false),
            t.path("single_word").asBoolean(false), t.path("normalized").asBoolean(!t.path("special").asBoolean(false))));
      }
    }
    AddedVocabulary av = new AddedVocabulary(addedTokens, AddedVocabulary.Matching.HF_FAST, normalizer);
    return new Tokenizer(normalizer, pre, model, post, decoder, av, config);
  }

  static RuntimeException unknown(String what, JsonNode n) {
    return new TokenizerException("unknown " + what + " type '" + n.path("type").asText("<missing>") + "'");
  }

  static Pattern pattern(JsonNode p) {
    if (p == null || p.isNull()) {
      throw new TokenizerException("missing pattern");
    }
    if (p.has("String")) {
      return Pattern.compile(Pattern.quote(p.get("String").asText()));
    }
    if (p.has("Regex")) {
      return FileRegex.compile(p.get("Regex").asText(), Pattern.UNICODE_CHARACTER_CLASS);
    }
    throw new TokenizerException("pattern is neither String nor Regex: " + p);
  }

  // ------------------------------------------------------------------ normalizers

  static Normalizer normalizer(JsonNode n) {
    if (n == null || n.isNull()) {
      return null;
    }
    String type = n.path("type").asText();
    switch (type) {
      case "NFC": return new Normalizers.Unicode(Form.NFC);
      case "NFD": return new Normalizers.Unicode(Form.NFD);
      case "NFKC": return new Normalizers.Unicode(Form.NFKC);
      case "NFKD": return new Normalizers.Unicode(Form.NFKD);
      case "Lowercase": return new Normalizers.Lowercase();
      case "Strip": return new Normalizers.Strip(n.path("strip_left").asBoolean(true), n.path("strip_right").asBoolean(true));
      case "StripAccents": return new Normalizers.StripAccents();
      case "Replace": return new Normalizers.Replace(pattern(n.get("pattern")), n.path("content").asText());
      case "Prepend": return new Normalizers.Prepend(n.path("prepend").asText());
      case "Precompiled": {
        JsonNode cm = n.get("precompiled_charsmap");
        if (cm == null || cm.isNull()) {
          return null;
        }
        byte[] data = Base64.getDecoder().decode(cm.asText());
        return data.length == 0 ? null : new Precompiled(data, Precompiled.Mode.HF_GRAPHEMES);
      }
      case "BertNormalizer": {
        JsonNode sa = n.get("strip_accents");
        return new Normalizers.Bert(n.path("clean_text").asBoolean(true), n.path("handle_chinese_chars").asBoolean(true),
            sa == null || sa.isNull() ? null : sa.asBoolean(), n.path("lowercase").asBoolean(true));
      }
      case "Sequence": {
        List<Normalizer> l = new ArrayList<>();
        for (JsonNode x : n.path("normalizers")) {
          Normalizer nx = normalizer(x);
          if (nx != null) {
            l.add(nx);
          }
        }
        return new Normalizers.Sequence(l);
      }
      default:
        throw unknown("normalizer", n);
    }
  }

  // ------------------------------------------------------------------ pre-tokenizers

  static PreTokenizer preTokenizer(JsonNode n) {
    if (n == null || n.isNull()) {
      return null;
    }
    String type = n.path("type").asText();
    switch (type) {
      case "ByteLevel":
        return new PreTokenizers.ByteLevel(n.path("add_prefix_space").asBoolean(false), n.path("use_regex").asBoolean(true));
      case "Metaspace": {
        String rep = n.path("replacement").asText("\u2581");
        PreTokenizers.PrependScheme scheme;
        if (n.has("prepend_scheme")) {
          scheme = switch (n.get("prepend_scheme").asText()) {
            case "first" -> PreTokenizers.PrependScheme.FIRST;
            case "never" -> PreTokenizers.PrependScheme.NEVER;
            default -> PreTokenizers.PrependScheme.ALWAYS;
          };
        } else {
          scheme = n.path("add_prefix_space").asBoolean(true) ? PreTokenizers.PrependScheme.ALWAYS : PreTokenizers.PrependScheme.NEVER;
        }
        return new PreTokenizers.Metaspace(rep, scheme, n.path("split").asBoolean(true));
      }
      case "WhitespaceSplit": return new PreTokenizers.WhitespaceSplit();
      case "Whitespace": return new PreTokenizers.Whitespace();
      case "BertPreTokenizer": return new PreTokenizers.BertPreTokenizer();
      case "Split":
        return new PreTokenizers.Split(pattern(n.get("pattern")), SplitBehavior.parse(n.path("behavior").asText("Isolated")),
            n.path("invert").asBoolean(false));
      case "Punctuation":
        return new PreTokenizers.Punctuation(SplitBehavior.parse(n.path("behavior").asText("Isolated")));
      case "Digits": return new PreTokenizers.Digits(n.path("individual_digits").asBoolean(false));
      case "Sequence": {
        List<PreTokenizer> l = new ArrayList<>();
        for (JsonNode x : n.path("pretokenizers")) {
          PreTokenizer p = preTokenizer(x);
          if (p != null) {
            l.add(p);
          }
        }
        return new PreTokenizers.Sequence(l);
      }
      default:
        throw unknown("pre-tokenizer", n);
    }
  }

  // ------------------------------------------------------------------ models

  static Model model(JsonNode n) {
    if (n == null || n.isNull()) {
      throw new TokenizerException("no model");
    }
    String type = n.path("type").asText("");
    if (type.isEmpty()) {
      // old files without a type: guess from the fields
      if (n.has("merges")) {
        type = "BPE";
      } else if (n.has("continuing_subword_prefix") && n.has("max_input_chars_per_word")) {
        type = "WordPiece";
      } else if (n.path("vocab").isArray()) {
        type = "Unigram";
      } else {
        type = "WordLevel";
      }
    }
    switch (type) {
      case "BPE": {
        Vocab vocab = vocab(n.get("vocab"));
        String prefix = textOrNull(n.get("continuing_subword_prefix"));
        List<String[]> pairs = new ArrayList<>();
        for (JsonNode m : n.path("merges")) {
          if (m.isArray()) {
            pairs.add(new String[] {m.get(0).asText(), m.get(1).asText()});
          } else {
            String s = m.asText();
            int sp = s.indexOf(' ', 1);
            if (sp < 0) {
              throw new TokenizerException("BPE merge '" + s + "' is not two tokens");
            }
            pairs.add(new String[] {s.substring(0, sp), s.substring(sp + 1)});
          }
        }
        return new Bpe(vocab, Bpe.mergesFromPairs(vocab, pairs, prefix), textOrNull(n.get("unk_token")), prefix,
            textOrNull(n.get("end_of_word_suffix")), n.path("fuse_unk").asBoolean(false),
            n.path("byte_fallback").asBoolean(false), n.path("ignore_merges").asBoolean(false));
      }
      case "Unigram": {
        List<String> pieces = new ArrayList<>();
        List<Double> scores = new ArrayList<>();
        for (JsonNode p : n.path("vocab")) {
          pieces.add(p.get(0).asText());
          scores.add(p.get(1).asDouble());
        }
        JsonNode unk = n.get("unk_id");
        int unkId = unk == null || unk.isNull() ? 0 : unk.asInt();
        return new Unigram(pieces, scores, unkId, n.path("byte_fallback").asBoolean(false), true);
      }
      case "WordPiece":
        return new WordPiece(vocab(n.get("vocab")), n.path("unk_token").asText("[UNK]"),
            n.path("continuing_subword_prefix").asText("##"), n.path("max_input_chars_per_word").asInt(100));
      case "WordLevel":
        return new WordLevel(vocab(n.get("vocab")), textOrNull(n.get("unk_token")));
      default:
        throw unknown("model", n);
    }
  }

  /** A token id: an integer from 0 to 2^31-1, else a named error. */
  static int id(JsonNode n, String what) {
    if (n == null || !n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0) {
      String w = what.length() > 60 ? what.substring(0, 60) + "..." : what;
      throw new TokenizerException(w + ": id " + n + " is not an integer from 0 to 2^31-1");
    }
    return n.intValue();
  }

  static String textOrNull(JsonNode n) {
    return n == null || n.isNull() ? null : n.asText();
  }

  static Vocab vocab(JsonNode v) {
    if (v == null || !v.isObject()) {
      throw new TokenizerException("model has no vocab object");
    }
    Map<String, Integer> m = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = v.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      m.put(e.getKey(), id(e.getValue(), "vocab entry '" + e.getKey() + "'"));
    }
    return new Vocab(m);
  }

  // ------------------------------------------------------------------ post-processors

  static PostProcessor postProcessor(JsonNode n, Model model, JsonNode root) {
    if (n == null || n.isNull()) {
      return null;
    }
    String type = n.path("type").asText();
    switch (type) {
      case "TemplateProcessing": {
        Map<String, PostProcessors.SpecialTokenDef> specials = new HashMap<>();
        JsonNode st = n.path("special_tokens");
        Iterator<Map.Entry<String, JsonNode>> it = st.fields();
        while (it.hasNext()) {
          Map.Entry<String, JsonNode> e = it.next();
          JsonNode d = e.getValue();
          int[] ids = new int[d.path("ids").size()];
          List<String> toks = new ArrayList<>();
          for (int i = 0; i < ids.length; i++) {
            ids[i] = id(d.path("ids").get(i), "TemplateProcessing special token");
            toks.add(d.path("tokens").get(i).asText());
          }
          specials.put(e.getKey(), new PostProcessors.SpecialTokenDef(d.path("id").asText(e.getKey()), ids, toks));
        }
        return new PostProcessors.Template(template(n.get("single")), template(n.get("pair")), specials);
      }
      case "BertProcessing":
      case "RobertaProcessing": {
        JsonNode sep = n.get("sep");
        JsonNode cls = n.get("cls");
        return new PostProcessors.ClsSep(new Token(id(cls.get(1), type + " cls"), cls.get(0).asText()),
            new Token(id(sep.get(1), type + " sep"), sep.get(0).asText()), type.equals("RobertaProcessing"));
      }
      case "ByteLevel":
        return new PostProcessors.Identity();
      case "Sequence": {
        List<PostProcessor> l = new ArrayList<>();
        for (JsonNode x : n.path("processors")) {
          PostProcessor p = postProcessor(x, model, root);
          if (p != null) {
            l.add(p);
          }
        }
        return new PostProcessors.Sequence(l);
      }
      default:
        throw unknown("post-processor", n);
    }
  }

  static List<PostProcessors.TemplateItem> template(JsonNode arr) {
    List<PostProcessors.TemplateItem> l = new ArrayList<>();
    if (arr == null) {
      return l;
    }
    for (JsonNode it : arr) {
      if (it.has("Sequence")) {
        l.add(new PostProcessors.TemplateItem(true, it.get("Sequence").path("id").asText(), it.get("Sequence").path("type_id").asInt()));
      } else if (it.has("SpecialToken")) {
        l.add(new PostProcessors.TemplateItem(false, it.get("SpecialToken").path("id").asText(),
            it.get("SpecialToken").path("type_id").asInt()));
      } else {
        throw new TokenizerException("unknown template piece " + it);
      }
    }
    return l;
  }

  // ------------------------------------------------------------------ decoders

  static Decoder decoder(JsonNode n) {
    if (n == null || n.isNull()) {
      return null;
    }
    String type = n.path("type").asText();
    switch (type) {
      case "ByteLevel": return new Decoders.ByteLevel(false);
      case "Metaspace": {
        boolean strip;
        if (n.has("prepend_scheme")) {
          strip = !"never".equals(n.get("prepend_scheme").asText());
        } else {
          strip = n.path("add_prefix_space").asBoolean(true);
        }
        return new Decoders.Metaspace(n.path("replacement").asText("\u2581").charAt(0), strip);
      }
      case "Replace": return new Decoders.Replace(pattern(n.get("pattern")), n.path("content").asText());
      case "ByteFallback": return new Decoders.ByteFallback();
      case "Fuse": return new Decoders.Fuse();
      case "Strip":
        return new Decoders.Strip(n.path("content").asText(" ").charAt(0), n.path("start").asInt(0), n.path("stop").asInt(0));
      case "WordPiece": return new Decoders.WordPiece(n.path("prefix").asText("##"), n.path("cleanup").asBoolean(true));
      case "BPEDecoder": return new Decoders.BpeSuffix(n.path("suffix").asText("</w>"));
      case "Sequence": {
        List<Decoder> l = new ArrayList<>();
        for (JsonNode x : n.path("decoders")) {
          Decoder d = decoder(x);
          if (d != null) {
            l.add(d);
          }
        }
        return new Decoders.Sequence(l);
      }
      default:
        throw unknown("decoder", n);
    }
  }
}
