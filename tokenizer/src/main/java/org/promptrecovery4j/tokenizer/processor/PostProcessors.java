package org.promptrecovery4j.tokenizer.processor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.promptrecovery4j.tokenizer.Token;

/** HF's post-processors. */
public final class PostProcessors {
  private PostProcessors() {}

  /** One element of a template: a special token (ids + tokens) or sequence A/B, with a type id. */
  public record TemplateItem(boolean isSequence, String name, int typeId) {}

  public record SpecialTokenDef(String id, int[] ids, List<String> tokens) {}

  public record Template(List<TemplateItem> single, List<TemplateItem> pair, Map<String, SpecialTokenDef> specials)
      implements PostProcessor {
    @Override
    public List<Piece> process(List<Token> a, List<Token> b, boolean addSpecialTokens) {
      if (!addSpecialTokens) {
        return PostProcessor.plain(a, b);
      }
      List<Piece> out = new ArrayList<>();
      for (TemplateItem it : b == null ? single : pair) {
        if (it.isSequence()) {
          List<Token> seq = it.name().equals("A") ? a : b;
          if (seq == null) {
            throw new org.promptrecovery4j.tokenizer.TokenizerException("TemplateProcessing: sequence " + it.name() + " missing");
          }
          for (Token t : seq) {
            out.add(new Piece(t, it.typeId(), false));
          }
        } else {
          SpecialTokenDef d = specials.get(it.name());
          if (d == null) {
            throw new org.promptrecovery4j.tokenizer.TokenizerException("TemplateProcessing: special token '" + it.name() + "' not defined");
          }
          for (int i = 0; i < d.ids().length; i++) {
            out.add(new Piece(new Token(d.ids()[i], d.tokens().get(i)), it.typeId(), true));
          }
        }
      }
      return out;
    }

    @Override
    public int addedTokens(boolean pair) {
      int n = 0;
      for (TemplateItem it : pair ? this.pair : single) {
        if (!it.isSequence()) {
          n += specials.get(it.name()).ids().length;
        }
      }
      return n;
    }
  }

  /** BERT: [CLS] A [SEP] (B [SEP]); RoBERTa: <s> A </s> (</s> B </s>). */
  public record ClsSep(Token cls, Token sep, boolean roberta) implements PostProcessor {
    @Override
    public List<Piece> process(List<Token> a, List<Token> b, boolean addSpecialTokens) {
      if (!addSpecialTokens) {
        return PostProcessor.plain(a, b);
      }
      List<Piece> out = new ArrayList<>();
      out.add(new Piece(cls, 0, true));
      for (Token t : a) {
        out.add(new Piece(t, 0, false));
      }
      out.add(new Piece(sep, 0, true));
      if (b != null) {
        int type = roberta ? 0 : 1;
        if (roberta) {
          out.add(new Piece(sep, type, true));
        }
        for (Token t : b) {
          out.add(new Piece(t, type, false));
        }
        out.add(new Piece(sep, type, true));
      }
      return out;
    }

    @Override
    public int addedTokens(boolean pair) {
      return pair ? (roberta ? 4 : 3) : 2;
    }
  }

  /** T5Tokenizer (slow): each sequence gets EOS appended unless it already ends with it; type ids 0. */
  public record EosIfAbsent(Token eos) implements PostProcessor {
    @Override
    public List<Piece> process(List<Token> a, List<Token> b, boolean addSpecialTokens) {
      if (!addSpecialTokens) {
        return PostProcessor.plain(a, b);
      }
      List<Piece> out = new ArrayList<>();
      for (List<Token> seq : b == null ? List.of(a) : List.of(a, b)) {
        for (Token t : seq) {
          out.add(new Piece(t, 0, false));
        }
        if (seq.isEmpty() || seq.get(seq.size() - 1).id() != eos.id()) {
          out.add(new Piece(eos, 0, true));
        }
      }
      return out;
    }

    @Override
    public int addedTokens(boolean pair) {
      return pair ? 2 : 1;
    }
  }

  /** ByteLevel as a post-processor only trims offsets: ids unchanged. */
  public record Identity() implements PostProcessor {
    @Override
    public List<Piece> process(List<Token> a, List<Token> b, boolean addSpecialTokens) {
      return PostProcessor.plain(a, b);
    }

    @Override
    public int addedTokens(boolean pair) {
      return 0;
    }
  }

  public record Sequence(List<PostProcessor> steps) implements PostProcessor {
    @Override
    public List<Piece> process(List<Token> a, List<Token> b, boolean addSpecialTokens) {
      PostProcessor last = null;
      for (PostProcessor p : steps) {
        if (!(p instanceof Identity)) {
          last = p;
        }
      }
      return last == null ? PostProcessor.plain(a, b) : last.process(a, b, addSpecialTokens);
    }

    @Override
    public int addedTokens(boolean pair) {
      int n = 0;
      for (PostProcessor p : steps) {
        n += p.addedTokens(pair);
      }
      return n;
    }
  }
}
