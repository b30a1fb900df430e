package org.promptrecovery4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.promptrecovery4j.tokenizer.decoder.Decoder;
import org.promptrecovery4j.tokenizer.decoder.Decoders;
import org.promptrecovery4j.tokenizer.model.Bpe;
import org.promptrecovery4j.tokenizer.model.Model;
import org.promptrecovery4j.tokenizer.model.Unigram;
import org.promptrecovery4j.tokenizer.model.Vocab;
import org.promptrecovery4j.tokenizer.model.WordPiece;
import org.promptrecovery4j.tokenizer.normalizer.Normalizer;
import org.promptrecovery4j.tokenizer.normalizer.Normalizers;
import org.promptrecovery4j.tokenizer.normalizer.Precompiled;
import org.promptrecovery4j.tokenizer.pretokenizer.PreTokenizers;
import org.promptrecovery4j.tokenizer.processor.PostProcessor;
import org.promptrecovery4j.tokenizer.processor.PostProcessors;
import org.promptrecovery4j.tokenizer.spm.SentencePieceModel;
import org.promptrecovery4j.tokenizer.spm.SpmNormalizer;

/**
 * Loading tokenizers: {@link #load(Path)} takes a {@code tokenizer.json}, a SentencePiece
 * {@code .model}, a GPT-2 style {@code vocab.json}/{@code encoder.json}, a {@code vocab.txt}, or a
 * model folder (chosen as AutoTokenizer would: tokenizer.json first, then the SentencePiece
 * model, then vocab.json + merges.txt, then vocab.txt), with {@code tokenizer_config.json}.
 */
public final class Tokenizers {
  private Tokenizers() {}

  public static Tokenizer load(Path path) throws IOException {
    if (!Files.exists(path)) {
      throw new TokenizerException(path + ": no such file or folder");
    }
    if (Files.isDirectory(path)) {
      return loadFolder(path);
    }
    Path dir = path.toAbsolutePath().getParent();
    TokenizerConfig cfg = readConfig(dir);
    String name = path.getFileName().toString();
    if (name.endsWith(".json") && !name.equals("vocab.json") && !name.equals("encoder.json")) {
      return adjustForConfig(TokenizerJson.load(path, cfg), cfg);
    }
    if (name.endsWith(".model")) {
      return fromSentencePiece(path, cfg);
    }
    if (name.equals("vocab.json") || name.equals("encoder.json")) {
      Path merges = dir.resolve(name.equals("vocab.json") ? "merges.txt" : "vocab.bpe");
      return fromGpt2Files(path, merges, readAddedTokensJson(dir), cfg);
    }
    if (name.endsWith(".txt")) {
      return fromWordPieceVocab(path, cfg);
    }
    throw new TokenizerException(path + ": not a tokenizer file (expected tokenizer.json, a .model, vocab.json or vocab.txt)");
  }

  static Tokenizer loadFolder(Path dir) throws IOException {
    TokenizerConfig cfg = readConfig(dir);
    Path tj = dir.resolve("tokenizer.json");
    if (Files.isRegularFile(tj)) {
      return adjustForConfig(TokenizerJson.load(tj, cfg), cfg);
    }
    for (String n : new String[] {"tokenizer.model", "spm.model", "sentencepiece.bpe.model", "spiece.model"}) {
      if (Files.isRegularFile(dir.resolve(n))) {
        return fromSentencePiece(dir.resolve(n), cfg);
      }
    }
    try (Stream<Path> s = Files.list(dir)) {
      Path any = s.filter(p -> p.getFileName().toString().endsWith(".model")).sorted().findFirst().orElse(null);
      if (any != null) {
        return fromSentencePiece(any, cfg);
      }
    }
    if (Files.isRegularFile(dir.resolve("vocab.json")) && Files.isRegularFile(dir.resolve("merges.txt"))) {
      return fromGpt2Files(dir.resolve("vocab.json"), dir.resolve("merges.txt"), readAddedTokensJson(dir), cfg);
    }
    if (Files.isRegularFile(dir.resolve("encoder.json")) && Files.isRegularFile(dir.resolve("vocab.bpe"))) {
      return fromGpt2Files(dir.resolve("encoder.json"), dir.resolve("vocab.bpe"), readAddedTokensJson(dir), cfg);
    }
    if (Files.isRegularFile(dir.resolve("vocab.txt"))) {
      return fromWordPieceVocab(dir.resolve("vocab.txt"), cfg);
    }
    throw new TokenizerException(dir + ": no tokenizer.json, SentencePiece .model, vocab.json+merges.txt or vocab.txt");
  }

  static TokenizerConfig readConfig(Path dir) throws IOException {
    if (dir == null) {
      return TokenizerConfig.EMPTY;
    }
    Path c = dir.resolve("tokenizer_config.json");
    return Files.isRegularFile(c) ? TokenizerConfig.read(c) : TokenizerConfig.EMPTY;
  }

  /** Added tokens listed in added_tokens.json ({"content": id}) next to slow-tokenizer files. */
  static List<AddedToken> readAddedTokensJson(Path dir) throws IOException {
    List<AddedToken> l = new ArrayList<>();
    Path f = dir == null ? null : dir.resolve("added_tokens.json");
    if (f != null && Files.isRegularFile(f)) {
      JsonNode n = new ObjectMapper().readTree(f.toFile());
      Iterator<Map.Entry<String, JsonNode>> it = n.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        l.add(new AddedToken(e.getValue().asInt(), e.getKey(), false, false, false, false, true));
      }
    }
    return l;
  }

  /**
   * With tokenizer_config.json's add_bos_token / add_eos_token, transformers rebuilds the
   * post-processor of Llama-style fast tokenizers: single = [bos] A [eos], pair = [bos] A [eos] [bos] B [eos].
   */
  static Tokenizer adjustForConfig(Tokenizer t, TokenizerConfig cfg) {
    if (cfg.addBosToken() == null && cfg.addEosToken() == null) {
      return t;
    }
    String cls = cfg.tokenizerClass() == null ? "" : cfg.tokenizerClass();
    if (!(cls.startsWith("Llama") || cls.startsWith("CodeLlama") || cls.startsWith("Gemma"))) {
      return t; // only these fast tokenizers rebuild their post-processor from the flags
    }
    if (!(t.postProcessor() instanceof PostProcessors.Template) && t.postProcessor() != null
        && !(t.postProcessor() instanceof PostProcessors.Identity)) {
      return t;
    }
    boolean bos = Boolean.TRUE.equals(cfg.addBosToken());
    boolean eos = Boolean.TRUE.equals(cfg.addEosToken());
    PostProcessor current = t.postProcessor();
    PostProcessor p = bosEosTemplate(t, bos ? cfg.bosToken() : null, eos ? cfg.eosToken() : null);
    if (p == null) {
      return t;
    }
    if (current instanceof PostProcessors.Identity && !bos && !eos) {
      return t;
    }
    return new Tokenizer(t.normalizer(), t.preTokenizer(), t.model(), p, t.decoder(),
        new AddedVocabulary(t.addedTokens(), AddedVocabulary.Matching.HF_FAST, t.normalizer()), cfg);
  }

  static PostProcessor bosEosTemplate(Tokenizer t, String bos, String eos) {
    List<PostProcessors.TemplateItem> single = new ArrayList<>();
    List<PostProcessors.TemplateItem> pair = new ArrayList<>();
    Map<String, PostProcessors.SpecialTokenDef> specials = new HashMap<>();
    for (String s : new String[] {bos, eos}) {
      if (s != null) {
        int id = t.tokenToId(s);
        if (id < 0) {
          return null;
        }
        specials.put(s, new PostProcessors.SpecialTokenDef(s, new int[] {id}, List.of(s)));
      }
    }
    if (bos != null) {
      single.add(new PostProcessors.TemplateItem(false, bos, 0));
      pair.add(new PostProcessors.TemplateItem(false, bos, 0));
    }
    single.add(new PostProcessors.TemplateItem(true, "A", 0));
    pair.add(new PostProcessors.TemplateItem(true, "A", 0));
    if (eos != null) {
      single.add(new PostProcessors.TemplateItem(false, eos, 0));
      pair.add(new PostProcessors.TemplateItem(false, eos, 0));
    }
    if (bos != null) {
      pair.add(new PostProcessors.TemplateItem(false, bos, 1));
    }
    pair.add(new PostProcessors.TemplateItem(true, "B", 1));
    if (eos != null) {
      pair.add(new PostProcessors.TemplateItem(false, eos, 1));
    }
    return new PostProcessors.Template(single, pair, specials);
  }

  // ------------------------------------------------------------------ GPT-2 files

  /** The 38 whitespace tokens CodeGen (and phi-2) add after GPT-2's vocabulary: 31..2 spaces, 9..2 tabs. */
  public static List<AddedToken> codeGenWhitespaceTokens(int firstId) {
    List<AddedToken> l = new ArrayList<>();
    int id = firstId;
    for (int n = 31; n >= 2; n--) {
      l.add(new AddedToken(id++, " ".repeat(n), false, false, false, false, true));
    }
    for (int n = 9; n >= 2; n--) {
      l.add(new AddedToken(id++, "\t".repeat(n), false, false, false, false, true));
    }
    return l;
  }

  /**
   * GPT-2's byte-level BPE from {@code encoder.json}/{@code vocab.json} and
   * {@code vocab.bpe}/{@code merges.txt}, behaving as transformers' slow GPT2Tokenizer /
   * CodeGenTokenizer did for the reference vectors ({@code <|endoftext|>} special, extra added
   * tokens matched the legacy way, unknown characters dropped on decode).
   */
  public static Tokenizer fromGpt2Files(Path vocabJson, Path mergesTxt, List<AddedToken> extra, TokenizerConfig cfg)
      throws IOException {
    Map<String, Integer> vocabMap = new LinkedHashMap<>();
    JsonNode v;
    try {
      v = new ObjectMapper().readTree(vocabJson.toFile());
    } catch (IOException e) {
      throw new TokenizerException(vocabJson + ": not valid JSON: " + e.getMessage(), e);
    }
    Iterator<Map.Entry<String, JsonNode>> it = v.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      vocabMap.put(e.getKey(), e.getValue().asInt());
    }
    Vocab vocab = new Vocab(vocabMap);
    List<String[]> pairs = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(mergesTxt, StandardCharsets.UTF_8)) {
      String line;
      int no = 0;
      while ((line = r.readLine()) != null) {
        no++;
        if (line.startsWith("#version") || line.isBlank()) {
          continue;
        }
        String[] p = line.split(" ");
        if (p.length != 2) {
          throw new TokenizerException(mergesTxt + ": line " + no + " is not a merge of two tokens");
        }
        pairs.add(p);
      }
    }
    Model model;
    try {
      model = new Bpe(vocab, Bpe.mergesFromPairs(vocab, pairs, null), null, null, null, false, false, false);
    } catch (IllegalArgumentException e) {
      throw new TokenizerException(mergesTxt + ": " + e.getMessage(), e);
    }
    List<AddedToken> added = new ArrayList<>();
    String eot = "<|endoftext|>";
    if (vocab.id(eot) >= 0) {
      added.add(AddedToken.special(vocab.id(eot), eot));
    }
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (AddedToken t : extra) {
      if (seen.add(t.content())) {
        added.add(t);
      }
    }
    // tokens listed in tokenizer_config.json's added_tokens_decoder (phi-2 / CodeGen ship them there)
    JsonNode raw = cfg == null ? null : cfg.raw();
    if (raw != null && raw.has("added_tokens_decoder")) {
      Iterator<Map.Entry<String, JsonNode>> at = raw.get("added_tokens_decoder").fields();
      while (at.hasNext()) {
        Map.Entry<String, JsonNode> e = at.next();
        int id = Integer.parseInt(e.getKey());
        JsonNode t = e.getValue();
        String content = t.path("content").asText();
        if (content.equals(vocab.token(id)) && !content.equals(eot)) {
          continue;
        }
        if (seen.add(content) && !content.equals(eot)) {
          added.add(new AddedToken(id, content, t.path("special").asBoolean(false), t.path("lstrip").asBoolean(false),
              t.path("rstrip").asBoolean(false), t.path("single_word").asBoolean(false), t.path("normalized").asBoolean(true)));
        }
      }
    }
    if (cfg == null || cfg == TokenizerConfig.EMPTY) {
      cfg = new TokenizerConfig("GPT2Tokenizer", eot, eot, eot, null, null, null, null, List.of(), false, false,
          false, null, null, 1024L, null);
    }
    return new Tokenizer(null, new PreTokenizers.ByteLevel(false, true), model, null, new Decoders.ByteLevel(true),
        new AddedVocabulary(added, AddedVocabulary.Matching.LEGACY_SLOW, null), cfg).withSlowTruncation();
  }

  /** BERT's WordPiece from a vocab.txt (lowercasing unless tokenizer_config says do_lower_case false). */
  public static Tokenizer fromWordPieceVocab(Path vocabTxt, TokenizerConfig cfg) throws IOException {
    Map<String, Integer> m = new LinkedHashMap<>();
    List<String> lines = Files.readAllLines(vocabTxt, StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      m.putIfAbsent(lines.get(i), i);
    }
    Vocab vocab = new Vocab(m);
    boolean lower = cfg.raw() == null || cfg.raw().path("do_lower_case").asBoolean(true);
    List<AddedToken> added = new ArrayList<>();
    for (String s : new String[] {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
      if (vocab.id(s) >= 0) {
        added.add(AddedToken.special(vocab.id(s), s));
      }
    }
    Normalizer norm = new Normalizers.Bert(true, true, null, lower);
    PostProcessor post = vocab.id("[CLS]") >= 0 && vocab.id("[SEP]") >= 0
        ? new PostProcessors.ClsSep(new Token(vocab.id("[CLS]"), "[CLS]"), new Token(vocab.id("[SEP]"), "[SEP]"), false)
        : null;
    TokenizerConfig c = cfg == TokenizerConfig.EMPTY ? new TokenizerConfig("BertTokenizer", null, null, "[UNK]", "[PAD]",
        "[SEP]", "[CLS]", "[MASK]", List.of(), null, null, true, null, null, 512L, null) : cfg;
    return new Tokenizer(norm, new PreTokenizers.BertPreTokenizer(), new WordPiece(vocab, "[UNK]", "##", 100), post,
        new Decoders.WordPiece("##", true), new AddedVocabulary(added, AddedVocabulary.Matching.HF_FAST, norm), c)
        .withCleanUpTokenizationSpaces(false);
  }

  // ------------------------------------------------------------------ SentencePiece

  /**
   * A SentencePiece model with the behaviour of transformers' slow tokenizer for it:
   * DebertaV2Tokenizer ({@code [CLS] A [SEP]}) when the model has [CLS]/[SEP] or the config says
   * so, T5Tokenizer ({@code A </s>}) for T5, otherwise LlamaTokenizer in legacy mode
   * ({@code <s> A}, add_bos_token/add_eos_token from the config).
   */
  public static Tokenizer fromSentencePiece(Path file, TokenizerConfig cfg) throws IOException {
    SentencePieceModel sp;
    try {
      sp = SentencePieceModel.read(file);
    } catch (IllegalArgumentException e) {
      throw new TokenizerException(e.getMessage(), e);
    }
    try {
      return fromSentencePiece(sp, cfg == null ? TokenizerConfig.EMPTY : cfg);
    } catch (IllegalArgumentException e) {
      throw new TokenizerException(file + ": " + e.getMessage(), e);
    }
  }

  public static Tokenizer fromSentencePiece(SentencePieceModel sp, TokenizerConfig cfg) {
    int n = sp.pieces.size();
    Precompiled charsmap = sp.precompiledCharsmap.length > 0
        ? new Precompiled(sp.precompiledCharsmap, Precompiled.Mode.SENTENCEPIECE) : null;
    Normalizer norm = new SpmNormalizer(charsmap, sp.removeExtraWhitespaces, sp.addDummyPrefix, sp.escapeWhitespaces);
    Map<String, Integer> ids = new HashMap<>();
    for (int i = 0; i < n; i++) {
      ids.putIfAbsent(sp.pieces.get(i), i);
    }
    String cls = cfg.clsToken() != null ? cfg.clsToken() : "[CLS]";
    String sep = cfg.sepToken() != null ? cfg.sepToken() : "[SEP]";
    String tclass = cfg.tokenizerClass() == null ? "" : cfg.tokenizerClass();
    boolean deberta = tclass.startsWith("DebertaV2") || (tclass.isEmpty() && ids.containsKey("[CLS]") && ids.containsKey("[SEP]"));
    boolean t5 = tclass.startsWith("T5") || (tclass.isEmpty() && !deberta && sp.bosId < 0 && sp.eosId >= 0);

    List<AddedToken> added = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int type = sp.types.get(i);
      if (type == SentencePieceModel.CONTROL || type == SentencePieceModel.UNKNOWN) {
        added.add(AddedToken.special(i, sp.pieces.get(i)));
      } else if (type == SentencePieceModel.USER_DEFINED) {
        added.add(new AddedToken(i, sp.pieces.get(i), false, false, false, false, false));
      }
    }
    // special tokens named in tokenizer_config (e.g. [MASK] at 128000 for DeBERTa-v3, extra ids for T5)
    JsonNode raw = cfg.raw();
    int next = n;
    if (raw != null && raw.has("added_tokens_decoder")) {
      Iterator<Map.Entry<String, JsonNode>> it = raw.get("added_tokens_decoder").fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        int id = Integer.parseInt(e.getKey());
        JsonNode t = e.getValue();
        String content = t.path("content").asText();
        if (id < n && sp.pieces.get(id).equals(content)) {
          continue;
        }
        added.add(new AddedToken(id, content, t.path("special").asBoolean(true), t.path("lstrip").asBoolean(false),
            t.path("rstrip").asBoolean(false), t.path("single_word").asBoolean(false), t.path("normalized").asBoolean(false)));
      }
    } else if (deberta && !ids.containsKey("[MASK]")) {
      added.add(AddedToken.special(next, "[MASK]"));
    } else if (t5) {
      // T5Tokenizer adds extra_ids=100 sentinels: <extra_id_N> = vocab size + 99 - N
      int extra = raw != null && raw.has("extra_ids") ? raw.get("extra_ids").asInt(100) : 100;
      for (int i = 0; i < extra; i++) {
        String tok = "<extra_id_" + i + ">";
        if (!ids.containsKey(tok)) {
          added.add(AddedToken.special(n + extra - 1 - i, tok));
        }
      }
    }

    Model model;
    if (sp.modelType == SentencePieceModel.UNIGRAM) {
      List<Double> scores = new ArrayList<>();
      boolean[] excluded = new boolean[n];
      for (int i = 0; i < n; i++) {
        scores.add((double) sp.scores.get(i));
        int type = sp.types.get(i);
        excluded[i] = type != SentencePieceModel.NORMAL && type != SentencePieceModel.USER_DEFINED;
      }
      model = new Unigram(sp.pieces, scores, sp.unkId, sp.byteFallback, true, excluded);
    } else if (sp.modelType == SentencePieceModel.BPE) {
      model = spmBpe(sp);
    } else {
      throw new IllegalArgumentException("unsupported SentencePiece model type " + sp.modelType + " (only Unigram=1 and BPE=2)");
    }

    String unk = sp.unkId >= 0 ? sp.pieces.get(sp.unkId) : null;
    String bos = sp.bosId >= 0 ? sp.pieces.get(sp.bosId) : null;
    String eos = sp.eosId >= 0 ? sp.pieces.get(sp.eosId) : null;
    String pad = sp.padId >= 0 && sp.padId < n ? sp.pieces.get(sp.padId) : null;
    PostProcessor post;
    TokenizerConfig c = cfg;
    if (deberta) {
      int clsId = ids.getOrDefault(cls, -1);
      int sepId = ids.getOrDefault(sep, -1);
      if (clsId < 0 || sepId < 0) {
        throw new IllegalArgumentException("DeBERTa-style model without " + cls + "/" + sep);
      }
      post = new PostProcessors.ClsSep(new Token(clsId, cls), new Token(sepId, sep), false);
      if (cfg == TokenizerConfig.EMPTY) {
        c = new TokenizerConfig("DebertaV2Tokenizer", cls, sep, unk, pad != null ? pad : "[PAD]", sep, cls, "[MASK]",
            List.of(), null, null, false, null, null, 512L, null);
      }
    } else if (t5) {
      post = eos == null ? null : new PostProcessors.EosIfAbsent(new Token(sp.eosId, eos));
      if (cfg == TokenizerConfig.EMPTY) {
        c = new TokenizerConfig("T5Tokenizer", null, eos, unk, pad, null, null, null, List.of(), false, true, false,
            null, null, 512L, null);
      }
    } else {
      if (cfg == TokenizerConfig.EMPTY) {
        c = new TokenizerConfig("LlamaTokenizer", bos, eos, unk, pad, null, null, null, List.of(), true, false, false,
            true, null, null, null);
      }
      boolean addBos = c.addBosToken() == null || c.addBosToken();
      boolean addEos = Boolean.TRUE.equals(c.addEosToken());
      String b = c.bosToken() != null ? c.bosToken() : bos;
      String e = c.eosToken() != null ? c.eosToken() : eos;
      Tokenizer tmp = new Tokenizer(null, null, model, null, null,
          new AddedVocabulary(added, AddedVocabulary.Matching.HF_FAST, null), c);
      post = bosEosTemplate(tmp, addBos ? b : null, addEos ? e : null);
    }
    Decoder dec = new org.promptrecovery4j.tokenizer.spm.SpmDecoder(sp.addDummyPrefix, sp.removeExtraWhitespaces, deberta || t5);
    org.promptrecovery4j.tokenizer.spm.SlowSpmDecoding.Flavour flavour = deberta
        ? org.promptrecovery4j.tokenizer.spm.SlowSpmDecoding.Flavour.DEBERTA
        : t5 ? org.promptrecovery4j.tokenizer.spm.SlowSpmDecoding.Flavour.T5
        : org.promptrecovery4j.tokenizer.spm.SlowSpmDecoding.Flavour.LLAMA_LEGACY;
    boolean spacesBetween = c.raw() == null || c.raw().path("spaces_between_special_tokens").asBoolean(true);
    return new Tokenizer(norm, null, model, post, dec,
        new AddedVocabulary(added, AddedVocabulary.Matching.HF_FAST, null), c)
        .withSlowDecoding(new org.promptrecovery4j.tokenizer.spm.SlowSpmDecoding(flavour, sp.addDummyPrefix,
            sp.removeExtraWhitespaces, spacesBetween)).withSlowTruncation();
  }

  /**
   * SentencePiece BPE: merges the adjacent pair whose concatenation is the piece of highest score
   * (leftmost among equal scores). Expressed as a merge table ranked by the merged piece's score.
   */
  static Bpe spmBpe(SentencePieceModel sp) {
    int n = sp.pieces.size();
    Map<String, Integer> vocabMap = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      vocabMap.putIfAbsent(sp.pieces.get(i), i);
    }
    Vocab vocab = new Vocab(vocabMap);
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -sp.scores.get(i)));
    int[] rank = new int[n];
    int r = -1;
    float prev = Float.NaN;
    for (Integer i : order) {
      float s = sp.scores.get(i);
      if (r < 0 || s != prev) {
        r++;
        prev = s;
      }
      rank[i] = r;
    }
    Map<Long, int[]> merges = new HashMap<>();
    for (int i = 0; i < n; i++) {
      int type = sp.types.get(i);
      if (type != SentencePieceModel.NORMAL && type != SentencePieceModel.USER_DEFINED) {
        continue;
      }
      String p = sp.pieces.get(i);
      if (p.isEmpty()) {
        continue; // an empty piece is no merge of two
      }
      for (int k = p.offsetByCodePoints(0, 1); k < p.length(); k = p.offsetByCodePoints(k, 1)) {
        Integer a = vocabMap.get(p.substring(0, k));
        Integer b = vocabMap.get(p.substring(k));
        if (a == null || b == null || !mergeable(sp, a) || !mergeable(sp, b)) {
          continue;
        }
        merges.putIfAbsent(Bpe.pair(a, b), new int[] {rank[i], i});
      }
    }
    String unk = sp.unkId >= 0 ? sp.pieces.get(sp.unkId) : null;
    return new Bpe(vocab, merges, unk, null, null, true, sp.byteFallback, false);
  }

  private static boolean mergeable(SentencePieceModel sp, int id) {
    int t = sp.types.get(id);
    return t == SentencePieceModel.NORMAL || t == SentencePieceModel.USER_DEFINED;
  }
}
