package org.promptrecovery4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The two longest_first pair truncations: HF tokenizers' (fast) and transformers' slow one. */
class PairTruncationTest {
  /** The slow tokenizers' rule, as written there: one token at a time off the longer text (the second on a tie). */
  static int[] oneAtATime(int la, int lb, int max) {
    while (la + lb > max) {
      if (la > lb) {
        la--;
      } else {
        lb--;
      }
    }
    return new int[] {la, lb};
  }

  @Test
  void slowTruncationRemovesOneTokenAtATimeFromTheLonger() {
    for (int max = 0; max < 40; max++) {
      for (int la = 0; la < 50; la++) {
        for (int lb = 0; lb < 50; lb++) {
          assertThat(Tokenizer.slowLongestFirst(la, lb, max)).as(la + "," + lb + " to " + max)
              .containsExactly(oneAtATime(la, lb, max));
        }
      }
    }
  }

  /** HF's own unit cases (tokenizers/src/utils/truncation.rs, max_length 7). */
  @Test
  void fastTruncationSharesEvenlyOnceBothMustShrink() {
    int[][] cases = {{0, 8, 0, 7}, {2, 8, 2, 5}, {4, 4, 3, 4}, {4, 8, 3, 4}, {8, 2, 5, 2}, {8, 4, 4, 3}, {8, 8, 3, 4}};
    for (int[] c : cases) {
      assertThat(Tokenizer.longestFirst(c[0], c[1], 7)).as(c[0] + "," + c[1]).containsExactly(c[2], c[3]);
    }
    assertThat(Tokenizer.longestFirst(3, 4, 7)).containsExactly(3, 4);
  }
}
