package org.promptrecovery4j.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ForkJoinPool;

/**
 * Tokens per second on the benchmark text made by tools/reference/bench_tokenizers.py (one
 * document per line), for GPT-2 byte-level BPE and the Mistral tokenizer.json. Not a unit test.
 *
 * <pre>
 * mvn -q -pl tokenizer dependency:build-classpath -Dmdep.outputFile=cp.txt
 * java -cp tokenizer/target/classes:tokenizer/target/test-classes:$(cat cp.txt) \
 *     org.promptrecovery4j.tokenizer.TokenizerBench /tmp/bench10mb.txt 1
 * </pre>
 * The second argument is the number of threads (documents split among them).
 */
public final class TokenizerBench {
  public static void main(String[] args) throws Exception {
    Path corpus = Path.of(args.length > 0 ? args[0] : "/tmp/bench10mb.txt");
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 1;
    Path shared = Path.of(args.length > 2 ? args[2] : "../shared", "conformance", "tokenizers");
    List<String> docs = Files.readAllLines(corpus, StandardCharsets.UTF_8);
    double mb = Files.size(corpus) / 1e6;
    Tokenizer gpt2 = Tokenizers.load(shared.resolve("gpt2/encoder.json"));
    Tokenizer mistral = Tokenizers.load(shared.resolve("mistral-7b-instruct-v0.2/tokenizer.json"));
    for (String name : new String[] {"gpt2", "mistral"}) {
      Tokenizer tok = name.equals("gpt2") ? gpt2 : mistral;
      run(tok, docs.subList(0, Math.min(2000, docs.size())), threads); // warm-up
      double best = Double.MAX_VALUE;
      long ntok = 0;
      for (int r = 0; r < 2; r++) {
        long t0 = System.nanoTime();
        ntok = run(tok, docs, threads);
        best = Math.min(best, (System.nanoTime() - t0) / 1e9);
      }
      System.out.printf("java %s: %d docs, %.1f MB, %d tokens, %.2f s, %,.0f tokens/s (threads=%d)%n", name,
          docs.size(), mb, ntok, best, ntok / best, threads);
    }
  }

  static long run(Tokenizer tok, List<String> docs, int threads) throws Exception {
    if (threads <= 1) {
      long n = 0;
      for (String d : docs) {
        n += tok.encode(d, false).length();
      }
      return n;
    }
    ForkJoinPool pool = new ForkJoinPool(threads);
    try {
      return pool.submit(() -> docs.parallelStream().mapToLong(d -> tok.encode(d, false).length()).sum()).get();
    } finally {
      pool.shutdown();
    }
  }

  private TokenizerBench() {}

}
