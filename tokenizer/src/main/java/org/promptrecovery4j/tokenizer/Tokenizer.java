package org.promptrecovery4j.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.promptrecovery4j.tokenizer.decoder.Decoder;
import org.promptrecovery4j.tokenizer.decoder.Decoders;
import org.promptrecovery4j.tokenizer.model.Model;
import org.promptrecovery4j.tokenizer.normalizer.Normalizer;
import org.promptrecovery4j.tokenizer.pretokenizer.PreTokenizer;
import org.promptrecovery4j.tokenizer.processor.PostProcessor;

/**
 * One tokenizer pipeline: added-token matching, normalizer, pre-tokenizer, model, post-processor,
 * and decoder. Immutable and thread-safe; {@link #withTruncation} and {@link #withPadding} return
 * configured copies. Build one with {@link Tokenizers#load}.
 */
public final class Tokenizer {
  /** Which side padding (and truncation) applies to. */
  public enum Side { RIGHT, LEFT }

  private final Normalizer normalizer;
  private final PreTokenizer preTokenizer;
  private final Model model;
  private final PostProcessor postProcessor;
  private final Decoder decoder;
  private final AddedVocabulary added;
  private final TokenizerConfig config;
  private final boolean cleanUpSpaces;
  private final int maxLength;
  private final Side truncationSide;
  private final Side paddingSide;
  private final int padId;
  private final String padToken;
  private final int padToLength;
  private org.promptrecovery4j.tokenizer.spm.SlowSpmDecoding slowDecoding;
  private boolean slowTruncation;

  public Tokenizer(Normalizer normalizer, PreTokenizer preTokenizer, Model model, PostProcessor postProcessor,
      Decoder decoder, AddedVocabulary added, TokenizerConfig config) {
    this(normalizer, preTokenizer, model, postProcessor, decoder, added, config == null ? TokenizerConfig.EMPTY : config,
        config != null && Boolean.TRUE.equals(config.cleanUpTokenizationSpaces()), -1, Side.RIGHT, null, -1, null, -1);
  }

  private Tokenizer(Normalizer normalizer, PreTokenizer preTokenizer, Model model, PostProcessor postProcessor,
      Decoder decoder, AddedVocabulary added, TokenizerConfig config, boolean cleanUpSpaces, int maxLength,
      Side truncationSide, Side paddingSide, int padId, String padToken, int padToLength) {
    this.normalizer = normalizer;
    this.preTokenizer = preTokenizer;
    this.model = model;
    this.postProcessor = postProcessor;
    this.decoder = decoder;
    this.added = added;
    this.config = config;
    this.cleanUpSpaces = cleanUpSpaces;
    this.maxLength = maxLength;
    this.truncationSide = truncationSide;
    this.paddingSide = paddingSide;
    this.padId = padId;
    this.padToken = padToken;
    this.padToLength = padToLength;
  }

  /**
   * A copy that truncates every encoding to {@code maxLength} tokens, special tokens kept; a pair as HF
   * {@code tokenizers}' longest_first (see {@link #longestFirst}), each text first clipped at a word boundary.
   */
  public Tokenizer withTruncation(int maxLength) {
    return withTruncation(maxLength, Side.RIGHT);
  }

  public Tokenizer withTruncation(int maxLength, Side side) {
    if (maxLength < postProcessor().addedTokens(false)) {
      throw new IllegalArgumentException("max length " + maxLength + " leaves no room for the special tokens");
    }
    return copySlow(new Tokenizer(normalizer, preTokenizer, model, postProcessor, decoder, added, config, cleanUpSpaces,
        maxLength, side, paddingSide, padId, padToken, padToLength));
  }

  /** A copy that pads batches to their longest encoding on {@code side} with {@code padId}. */
  public Tokenizer withPadding(Side side, int padId) {
    return withPadding(side, padId, -1);
  }

  /** As {@link #withPadding(Side, int)}, padding to at least {@code length} when it is positive. */
  public Tokenizer withPadding(Side side, int padId, int length) {
    String tok = idToToken(padId);
    if (tok == null) {
      throw new IllegalArgumentException("pad id " + padId + " is outside the vocabulary");
    }
    return copySlow(new Tokenizer(normalizer, preTokenizer, model, postProcessor, decoder, added, config, cleanUpSpaces,
        maxLength, truncationSide, side, padId, tok, length));
  }

  /** Decode as transformers' slow SentencePiece tokenizers do (set by the .model loader). */
  Tokenizer withSlowDecoding(org.promptrecovery4j.tokenizer.spm.SlowSpmDecoding d) {
    Tokenizer t = new Tokenizer(normalizer, preTokenizer, model, postProcessor, decoder, added, config, cleanUpSpaces,
        maxLength, truncationSide, paddingSide, padId, padToken, padToLength);
    t.slowDecoding = d;
    t.slowTruncation = slowTruncation;
    return t;
  }

  /**
   * Truncate pairs as transformers' slow tokenizers do (one token at a time from the longer text, the second on
   * a tie; no clipping at words first), for the loaders that reproduce slow tokenizers.
   */
  Tokenizer withSlowTruncation() {
    Tokenizer t = copySlow(new Tokenizer(normalizer, preTokenizer, model, postProcessor, decoder, added, config,
        cleanUpSpaces, maxLength, truncationSide, paddingSide, padId, padToken, padToLength));
    t.slowTruncation = true;
    return t;
  }

  private Tokenizer copySlow(Tokenizer t) {
    t.slowDecoding = slowDecoding;
    t.slowTruncation = slowTruncation;
    return t;
  }

  /**
   * A copy that reads special tokens inside the text as plain characters (HF's
   * {@code split_special_tokens=True}; TensorFlow's SentencePiece reads a literal {@code </s>} so). The
   * post-processor still adds its special tokens, and decoding still knows them. A Unigram model also
   * stops matching them as pieces, as SentencePiece never matches its control pieces.
   */
  public Tokenizer withSpecialTokensAsText() {
    java.util.List<Integer> specialIds = new ArrayList<>();
    for (AddedToken t : added.tokens()) {
      if (t.special()) {
        specialIds.add(t.id());
      }
    }
    Model m = model instanceof org.promptrecovery4j.tokenizer.model.Unigram u ? u.excluding(specialIds) : model;
    return copySlow(new Tokenizer(normalizer, preTokenizer, m, postProcessor, decoder, added.withoutSpecialMatching(),
        config, cleanUpSpaces, maxLength, truncationSide, paddingSide, padId, padToken, padToLength));
  }

  /** A copy that does (or does not) apply transformers' clean_up_tokenization_spaces on decode. */
  public Tokenizer withCleanUpTokenizationSpaces(boolean on) {
    return copySlow(new Tokenizer(normalizer, preTokenizer, model, postProcessor, decoder, added, config, on, maxLength,
        truncationSide, paddingSide, padId, padToken, padToLength));
  }

  // ---------------------------------------------------------------- encoding

  /** The model tokens of one text, before post-processing. */
  public List<Token> tokenizeToTokens(String text) {
    List<Token> out = new ArrayList<>();
    tokenizeInto(text, out, (n, word) -> true);
    return out;
  }

  /** Told the token count after each split of a text (an added token, or one pre-tokenized word). */
  private interface AfterSplit {
    /** False stops the tokenization. */
    boolean next(int tokens, boolean word);
  }

  private void tokenizeInto(String text, List<Token> out, AfterSplit after) {
    List<String> words = new ArrayList<>();
    for (AddedVocabulary.Segment seg : added.splitRaw(text, 0)) {
      if (seg.token() != null) {
        out.add(new Token(seg.token().id(), seg.text()));
        if (!after.next(out.size(), false)) {
          return;
        }
        continue;
      }
      String norm = normalizer == null ? seg.text() : normalizer.normalize(seg.text());
      List<AddedVocabulary.Segment> segs = added.hasNormalizedTokens()
          ? added.splitNormalized(norm, seg.offset()) : List.of(new AddedVocabulary.Segment(norm, null, seg.offset()));
      boolean first = true;
      for (AddedVocabulary.Segment s : segs) {
        if (s.token() != null) {
          out.add(new Token(s.token().id(), s.text()));
          first = false;
          if (!after.next(out.size(), false)) {
            return;
          }
          continue;
        }
        if (s.text().isEmpty()) {
          continue;
        }
        words.clear();
        boolean atStart = seg.offset() == 0 && first;
        if (preTokenizer == null) {
          words.add(s.text());
        } else {
          preTokenizer.split(s.text(), atStart, words);
        }
        first = false;
        for (String w : words) {
          model.tokenize(w, out);
          if (!after.next(out.size(), true)) {
            return;
          }
        }
      }
    }
  }

  /**
   * The model tokens of one text as HF {@code tokenizers} (0.23 on) gives them to truncation at {@code limit}: whole
   * splits from the kept side, up to the word that brings the count to {@code limit} or past it (added tokens count
   * but never end it). Pair truncation then sees these lengths, so two long texts share the budget evenly.
   */
  private List<Token> tokenizeLimited(String text, int limit, Side side) {
    List<Token> out = new ArrayList<>();
    if (side == Side.RIGHT) {
      tokenizeInto(text, out, (n, word) -> !word || n < limit);
      return out;
    }
    List<int[]> ends = new ArrayList<>();
    tokenizeInto(text, out, (n, word) -> ends.add(new int[] {n, word ? 1 : 0}));
    int start = 0;
    for (int i = ends.size() - 1; i >= 0; i--) {
      start = i == 0 ? 0 : ends.get(i - 1)[0];
      if (ends.get(i)[1] == 1 && out.size() - start >= limit) {
        break;
      }
    }
    return start == 0 ? out : new ArrayList<>(out.subList(start, out.size()));
  }

  /** The token strings of one text, without special tokens from the post-processor. */
  public List<String> tokenize(String text) {
    List<String> r = new ArrayList<>();
    for (Token t : tokenizeToTokens(text)) {
      r.add(t.value());
    }
    return r;
  }

  public Encoding encode(String text) {
    return encode(text, true);
  }

  public Encoding encode(String text, boolean addSpecialTokens) {
    return encodePair(text, null, addSpecialTokens);
  }

  /** Encodes a pair (the second may be null). */
  public Encoding encodePair(String a, String b, boolean addSpecialTokens) {
    if (a == null) {
      throw new IllegalArgumentException("text is null");
    }
    boolean clip = maxLength >= 0 && !slowTruncation;
    List<Token> ta = clip ? tokenizeLimited(a, maxLength, truncationSide) : tokenizeToTokens(a);
    List<Token> tb = b == null ? null : clip ? tokenizeLimited(b, maxLength, truncationSide) : tokenizeToTokens(b);
    if (maxLength >= 0) {
      int budget = maxLength - (addSpecialTokens ? postProcessor().addedTokens(tb != null) : 0);
      if (budget < 0) {
        budget = 0;
      }
      if (tb == null) {
        ta = cut(ta, budget);
      } else {
        int[] n = slowTruncation ? slowLongestFirst(ta.size(), tb.size(), budget)
            : longestFirst(ta.size(), tb.size(), budget);
        ta = cut(ta, n[0]);
        tb = cut(tb, n[1]);
      }
    }
    List<PostProcessor.Piece> pieces = postProcessor().process(ta, tb, addSpecialTokens);
    int n = pieces.size();
    int[] ids = new int[n];
    int[] types = new int[n];
    int[] mask = new int[n];
    int[] special = new int[n];
    List<String> toks = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      PostProcessor.Piece p = pieces.get(i);
      ids[i] = p.token().id();
      types[i] = p.typeId();
      mask[i] = 1;
      AddedToken at = added.byId(p.token().id());
      special[i] = p.special() || (at != null && at.special()) ? 1 : 0;
      toks.add(p.token().value());
    }
    Encoding e = new Encoding(ids, toks, types, mask, special);
    if (paddingSide != null && padToLength > e.length()) {
      e = pad(e, padToLength);
    }
    return e;
  }

  /**
   * The lengths HF's longest_first truncation keeps of a pair over {@code max}: the shorter text stays whole
   * if the longer one can take the rest (at least as many tokens); otherwise each gets half, the odd token
   * going to the longer one (to the second on a tie).
   */
  static int[] longestFirst(int la, int lb, int max) {
    if (la + lb <= max) {
      return new int[] {la, lb};
    }
    boolean swap = la > lb;
    int shorter = Math.min(la, lb);
    int longer = shorter > max ? shorter : Math.max(shorter, max - shorter);
    if (shorter + longer > max) {
      shorter = max / 2;
      longer = shorter + max % 2;
    }
    return swap ? new int[] {longer, shorter} : new int[] {shorter, longer};
  }

  /** transformers' slow longest_first: one token at a time off the longer text, off the second on a tie. */
  static int[] slowLongestFirst(int la, int lb, int max) {
    int excess = Math.max(0, la + lb - max);
    int first = Math.min(Math.abs(la - lb), excess);
    int rest = excess - first;
    return la > lb ? new int[] {la - first - rest / 2, lb - (rest - rest / 2)}
        : new int[] {la - rest / 2, lb - first - (rest - rest / 2)};
  }

  private List<Token> cut(List<Token> t, int n) {
    if (t.size() <= n) {
      return t;
    }
    return truncationSide == Side.RIGHT ? new ArrayList<>(t.subList(0, n)) : new ArrayList<>(t.subList(t.size() - n, t.size()));
  }

  /** Encodes texts; pads them to the longest when padding is configured. */
  public List<Encoding> encodeBatch(List<String> texts, boolean addSpecialTokens) {
    List<Encoding> out = new ArrayList<>(texts.size());
    for (String t : texts) {
      out.add(encode(t, addSpecialTokens));
    }
    return padBatch(out);
  }

  /** Encodes pairs (a.get(i), b.get(i)); pads as {@link #encodeBatch}. */
  public List<Encoding> encodePairBatch(List<String> a, List<String> b, boolean addSpecialTokens) {
    if (a.size() != b.size()) {
      throw new IllegalArgumentException("pair batch: " + a.size() + " first texts but " + b.size() + " second");
    }
    List<Encoding> out = new ArrayList<>(a.size());
    for (int i = 0; i < a.size(); i++) {
      out.add(encodePair(a.get(i), b.get(i), addSpecialTokens));
    }
    return padBatch(out);
  }

  private List<Encoding> padBatch(List<Encoding> encs) {
    if (paddingSide == null) {
      return encs;
    }
    int longest = 0;
    for (Encoding e : encs) {
      longest = Math.max(longest, e.length());
    }
    List<Encoding> out = new ArrayList<>(encs.size());
    for (Encoding e : encs) {
      out.add(pad(e, longest));
    }
    return out;
  }

  private Encoding pad(Encoding e, int len) {
    int n = e.length();
    if (n >= len) {
      return e;
    }
    int[] ids = new int[len];
    int[] types = new int[len];
    int[] mask = new int[len];
    int[] special = new int[len];
    List<String> toks = new ArrayList<>(len);
    int off = paddingSide == Side.LEFT ? len - n : 0;
    Arrays.fill(ids, padId);
    Arrays.fill(special, 1);
    System.arraycopy(e.ids(), 0, ids, off, n);
    System.arraycopy(e.typeIds(), 0, types, off, n);
    System.arraycopy(e.attentionMask(), 0, mask, off, n);
    System.arraycopy(e.specialTokensMask(), 0, special, off, n);
    for (int i = 0; i < len; i++) {
      toks.add(i >= off && i < off + n ? e.tokens().get(i - off) : padToken);
    }
    return new Encoding(ids, toks, types, mask, special);
  }

  // ---------------------------------------------------------------- decoding

  /** Decodes ids to text; an id outside the vocabulary is an error naming it. */
  public String decode(int[] ids, boolean skipSpecialTokens) {
    List<String> toks = new ArrayList<>(ids.length);
    java.util.Set<Integer> special = new java.util.HashSet<>();
    java.util.Set<Integer> legacyAdded = new java.util.HashSet<>();
    for (int id : ids) {
      String t = idToToken(id);
      if (t == null) {
        throw new TokenizerException("id " + id + " is outside the vocabulary (size " + vocabSize() + ")");
      }
      AddedToken at = added.byId(id);
      if (skipSpecialTokens && at != null && at.special()) {
        continue;
      }
      if (slowDecoding != null && at != null) {
        if (at.special()) {
          special.add(toks.size());
        }
        if (at.id() >= model.vocabSize() && !isNamedSpecial(at.content())) {
          legacyAdded.add(toks.size());
        }
      }
      toks.add(t);
    }
    String s;
    if (slowDecoding != null) {
      s = slowDecoding.decode(toks, special, legacyAdded);
    } else {
      s = decoder == null ? String.join(" ", toks) : decoder.decode(toks);
    }
    return cleanUpSpaces ? Decoders.cleanupTokenization(s) : s;
  }

  private boolean isNamedSpecial(String t) {
    return t.equals(config.bosToken()) || t.equals(config.eosToken()) || t.equals(config.unkToken())
        || t.equals(config.padToken()) || t.equals(config.sepToken()) || t.equals(config.clsToken())
        || t.equals(config.maskToken());
  }

  public String decode(List<Integer> ids, boolean skipSpecialTokens) {
    return decode(ids.stream().mapToInt(Integer::intValue).toArray(), skipSpecialTokens);
  }

  // ---------------------------------------------------------------- vocabulary

  /** The token of an id (added tokens first), or null. */
  public String idToToken(int id) {
    AddedToken at = added.byId(id);
    return at != null ? at.content() : model.idToToken(id);
  }

  /** The id of a token (added tokens first), or -1. */
  public int tokenToId(String token) {
    AddedToken at = added.byContent(token);
    return at != null ? at.id() : model.tokenToId(token);
  }

  /** Size of the vocabulary with the added tokens (as {@code len(tokenizer)} in transformers). */
  public int vocabSize() {
    int n = model.vocabSize();
    for (AddedToken t : added.tokens()) {
      if (model.idToToken(t.id()) == null) {
        n++;
      }
    }
    return n;
  }

  /**
   * One more than the largest id encoding can give: the model's vocabulary and every added token (what a
   * model's embedding table needs rows for).
   */
  public int idLimit() {
    int n = model.vocabSize();
    for (AddedToken t : added.tokens()) {
      n = Math.max(n, t.id() + 1);
    }
    return n;
  }

  private int idOf(String token) {
    return token == null ? -1 : tokenToId(token);
  }

  public int bosId() {
    return idOf(config.bosToken());
  }

  public int eosId() {
    return idOf(config.eosToken());
  }

  public int padId() {
    return paddingSide != null ? padId : idOf(config.padToken());
  }

  public int unkId() {
    return idOf(config.unkToken());
  }

  public List<AddedToken> addedTokens() {
    return added.tokens();
  }

  public TokenizerConfig config() {
    return config;
  }

  public Model model() {
    return model;
  }

  public Normalizer normalizer() {
    return normalizer;
  }

  public PreTokenizer preTokenizer() {
    return preTokenizer;
  }

  public PostProcessor postProcessor() {
    return postProcessor == null ? new org.promptrecovery4j.tokenizer.processor.PostProcessors.Identity() : postProcessor;
  }

  public Decoder decoder() {
    return decoder;
  }

  public int maxLength() {
    return maxLength;
  }
}
