package org.promptrecovery4j.training.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.models.generation.CausalLM;
import org.promptrecovery4j.models.generation.DecoderOptions;
import org.promptrecovery4j.models.lora.LoraAdapter;
import org.promptrecovery4j.training.optim.AdamW;

/** train-lora's library: epochs, held-out loss, resume equal to an uninterrupted run, and a real checkpoint. */
class LoraTrainerTest {

  static Path fixtures() {
    return Path.of(System.getProperty("pr4j.fixtures", "../fixtures"));
  }

  /** A copy task: {@code x x} with the loss on the second copy; random x from ids [lo, hi). */
  static List<LoraExamples.Example> copyTask(int n, int half, int lo, int hi, long seed, int bos) {
    Random r = new Random(seed);
    List<LoraExamples.Example> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int[] x = new int[half];
      for (int k = 0; k < half; k++) {
        x[k] = lo + r.nextInt(hi - lo);
      }
      int[] ids = new int[1 + 2 * half];
      int[] labels = new int[ids.length];
      ids[0] = bos;
      System.arraycopy(x, 0, ids, 1, half);
      System.arraycopy(x, 0, ids, 1 + half, half);
      Arrays.fill(labels, 0, 1 + half, CausalLmLoss.IGNORE);
      System.arraycopy(x, 0, labels, 1 + half, half);
      out.add(new LoraExamples.Example(ids, labels));
    }
    return out;
  }

  static LoraTrainer.Options options(int epochs, double lr) {
    return new LoraTrainer.Options(List.of("q_proj", "k_proj", "v_proj", "o_proj"), 4, 8,
        new AdamW.Settings(lr, 0.9, 0.999, 1e-8, 0.0), 1.0, epochs, 4, 2, 3, 0.25, 0.1);
  }

  @Test
  void aKilledRunResumesToTheSameAdapter(@TempDir Path tmp) throws Exception {
    Path model = fixtures().resolve("tiny-mistral-gqa2");
    List<LoraExamples.Example> data = copyTask(24, 6, 3, 96, 1, 1);
    Path whole = tmp.resolve("whole");
    LoraTrainer.Result a = LoraTrainer.train(model, data, whole, options(3, 5e-3));
    assertThat(a.epochs()).hasSize(3);
    assertThat(a.epochs().get(2).trainLoss()).isLessThan(a.epochs().get(0).trainLoss());

    Path killed = tmp.resolve("killed");
    System.setProperty(LoraTrainer.STOP_AFTER_EPOCHS_PROPERTY, "2");
    try {
      assertThatThrownBy(() -> LoraTrainer.train(model, data, killed, options(3, 5e-3)))
          .hasMessageContaining("stopped after epoch 2");
    } finally {
      System.clearProperty(LoraTrainer.STOP_AFTER_EPOCHS_PROPERTY);
    }
    LoraTrainer.Result b = LoraTrainer.train(model, data, killed, options(3, 5e-3));
    assertThat(b.resumed()).isTrue();
    assertThat(b.epochs()).isEqualTo(a.epochs());
    assertThat(Files.readAllBytes(killed.resolve("adapter_model.safetensors")))
        .isEqualTo(Files.readAllBytes(whole.resolve("adapter_model.safetensors")));
    assertThat(Files.readAllBytes(killed.resolve(LoraTrainer.STATE))).isEqualTo(Files.readAllBytes(whole.resolve(LoraTrainer.STATE)));

    assertThatThrownBy(() -> LoraTrainer.train(model, data, killed, options(3, 1e-3)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds a run with other settings");
    // the folder is an ordinary PEFT adapter
    try (CausalLM lm = LoraAdapter.load(whole).loadOnto(model, DecoderOptions.defaults())) {
      assertThat(lm.dims().vocabSize()).isEqualTo(96);
    }
  }

  /** Doubled tokens: {@code x1 x1 x2 x2 ...}, the loss on each second copy; random x from ids [lo, hi). */
  static List<LoraExamples.Example> doubled(int n, int pairs, int lo, int hi, long seed, int bos) {
    Random r = new Random(seed);
    List<LoraExamples.Example> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int[] ids = new int[1 + 2 * pairs];
      int[] labels = new int[ids.length];
      ids[0] = bos;
      labels[0] = CausalLmLoss.IGNORE;
      for (int k = 0; k < pairs; k++) {
        int x = lo + r.nextInt(hi - lo);
        ids[1 + 2 * k] = x;
        ids[2 + 2 * k] = x;
        labels[1 + 2 * k] = CausalLmLoss.IGNORE;
        labels[2 + 2 * k] = x;
      }
      out.add(new LoraExamples.Example(ids, labels));
    }
    return out;
  }

  /**
   * The real llama2.c stories260K checkpoint (../shared; skipped without it): a LoRA adapter (r 8 on q/k/v/o of
   * its 5 layers) learns to repeat each token once ({@code x1 x1 x2 x2 ...}), which the story model does not do,
   * on held-out sequences: the held-out loss falls below the base model's and below a uniform guess's (ln 512).
   */
  @Test
  void loraLowersHeldOutLossOnTheRealStories260K(@TempDir Path tmp) throws Exception {
    Path ckpt = Path.of(System.getProperty("pr4j.shared", "../shared"), "conformance", "models", "stories260K", "stories260K.bin");
    Assumptions.assumeTrue(Files.isRegularFile(ckpt), "skipped: " + ckpt + " is absent");
    List<LoraExamples.Example> data = doubled(50, 12, 3, 512, 7, 1);
    LoraTrainer.Options o = new LoraTrainer.Options(List.of("q_proj", "k_proj", "v_proj", "o_proj"), 8, 16,
        new AdamW.Settings(2e-2, 0.9, 0.999, 1e-8, 0.0), 1.0, 5, 8, 1, 11, 0.2, 0.0);
    double before;
    try (CausalLM base = org.promptrecovery4j.models.Models.loadCausalLM(ckpt, DecoderOptions.defaults())) {
      // the held-out split of LoraTrainer: the first 20 % of a seeded permutation
      List<LoraExamples.Example> val = heldOut(data, o);
      before = LoraTrainer.evaluate(new CausalLmLoss(base)::loss, val, 8);
    }
    LoraTrainer.Result r = LoraTrainer.train(ckpt, data, tmp.resolve("adapter"), o);
    double after = r.epochs().get(r.epochs().size() - 1).valLoss();
    System.out.printf("stories260K + LoRA, doubled tokens: held-out loss %.4f before, %.4f after %d epochs (train %s)%n",
        before, after, r.epochs().size(), r.epochs());
    assertThat(after).isLessThan(before * 0.85).isLessThan(Math.log(512)); // and better than a uniform guess
  }

  static List<LoraExamples.Example> heldOut(List<LoraExamples.Example> data, LoraTrainer.Options o) {
    int n = (int) Math.round(data.size() * o.valFraction());
    int[] p = org.promptrecovery4j.training.Shuffling.permutation(data.size(), o.seed());
    List<LoraExamples.Example> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(data.get(p[i]));
    }
    return out;
  }
}
