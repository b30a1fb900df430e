package org.promptrecovery4j.models.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.promptrecovery4j.models.Models;
import org.promptrecovery4j.models.generation.DecoderFixtures.Greedy;

/** Greedy ids against HF's generate, batched against one-by-one, and the stop rules. */
class GeneratorTest {

  static CausalLM mistral;

  @BeforeAll
  static void load() throws Exception {
    mistral = Models.loadCausalLM(DecoderFixtures.dir("tiny-mistral-gqa2"), DecoderOptions.defaults());
  }

  @AfterAll
  static void close() {
    mistral.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny-mistral-gqa2", "tiny-llama-gqa3-bf16", "tiny-phi", "tiny-gemma-bf16"})
  void greedyIdsEqualHuggingFaceOneByOneAndBatched(String fixture) throws Exception {
    List<Greedy> cases = DecoderFixtures.greedy(DecoderFixtures.expected(fixture));
    int maxNew = cases.get(0).generated().length;
    try (CausalLM model = Models.loadCausalLM(DecoderFixtures.dir(fixture), DecoderOptions.defaults())) {
      Generator gen = new Generator(model);
      GenerationConfig config = GenerationConfig.greedy(maxNew);
      for (Greedy c : cases) {
        assertThat(gen.generate(c.prompt(), config, null).generatedIds())
            .as("%s prompt %s (min top-1/top-2 gap %.3f)", fixture, Arrays.toString(c.prompt()), c.minGap())
            .containsExactly(c.generated());
      }
      List<Generator.Result> batched = gen.generate(cases.stream().map(Greedy::prompt).toList(), config, null);
      for (int i = 0; i < cases.size(); i++) {
        assertThat(batched.get(i).generatedIds()).as("%s batched row %d", fixture, i).containsExactly(cases.get(i).generated());
        assertThat(batched.get(i).finishReason()).isEqualTo(Generator.FinishReason.LENGTH);
      }
    }
  }

  @Test
  void bf16KeptAsStoredGivesTheSameGreedyIds() throws Exception {
    List<Greedy> cases = DecoderFixtures.greedy(DecoderFixtures.expected("tiny-gemma-bf16"));
    try (CausalLM model = Models.loadCausalLM(DecoderFixtures.dir("tiny-gemma-bf16"),
        DecoderOptions.defaults().withStorage(DecoderOptions.WeightStorage.AS_STORED))) {
      List<Generator.Result> r = new Generator(model).generate(cases.stream().map(Greedy::prompt).toList(),
          GenerationConfig.greedy(cases.get(0).generated().length), null);
      for (int i = 0; i < cases.size(); i++) {
        assertThat(r.get(i).generatedIds()).containsExactly(cases.get(i).generated());
      }
    }
  }

  @Test
  void eosStopsARowAndKeepsTheEosIdWhileOtherRowsContinue() throws Exception {
    List<Greedy> cases = DecoderFixtures.greedy(DecoderFixtures.expected("tiny-mistral-gqa2"));
    int eos = cases.get(0).generated()[2];
    GenerationConfig config = GenerationConfig.greedy(8).withEos(Set.of(eos)).withMaxBatchSize(2);
    List<Generator.Result> r = new Generator(mistral).generate(cases.stream().map(Greedy::prompt).toList(), config, null);
    for (int i = 0; i < cases.size(); i++) {
      int[] want = cases.get(i).generated();
      int stop = -1;
      for (int t = 0; t < want.length && stop < 0; t++) {
        if (want[t] == eos) {
          stop = t;
        }
      }
      int[] expected = stop < 0 ? want : Arrays.copyOf(want, stop + 1);
      assertThat(r.get(i).generatedIds()).containsExactly(expected);
      assertThat(r.get(i).finishReason()).isEqualTo(stop < 0 ? Generator.FinishReason.LENGTH : Generator.FinishReason.EOS);
    }
    assertThat(r.get(0).finishReason()).isEqualTo(Generator.FinishReason.EOS);
  }

  @Test
  void stopStringsEndARowAndCutItsText() {
    Greedy c = DecoderFixtures.greedy(uncheck("tiny-mistral-gqa2")).get(1);
    TokenDecoder decoder = ids -> Arrays.stream(ids).mapToObj(i -> "<" + i + ">").collect(Collectors.joining());
    String stop = "<" + c.generated()[3] + ">";
    Generator.Result r = new Generator(mistral).generate(c.prompt(),
        GenerationConfig.greedy(8).withStopStrings(List.of(stop)), decoder);
    int first = 0;
    while (c.generated()[first] != c.generated()[3]) {
      first++;
    }
    assertThat(r.finishReason()).isEqualTo(Generator.FinishReason.STOP_STRING);
    assertThat(r.generatedIds()).containsExactly(Arrays.copyOf(c.generated(), first + 1));
    assertThat(r.text()).isEqualTo(decoder.decode(Arrays.copyOf(c.generated(), first)));
  }

  @Test
  void seededSamplingIsReproducibleAndBatchIndependent() {
    List<Greedy> cases = DecoderFixtures.greedy(uncheck("tiny-mistral-gqa2"));
    List<int[]> prompts = cases.stream().map(Greedy::prompt).toList();
    GenerationConfig config = GenerationConfig.greedy(8).sampling(1.3, 20, 0.9, 42).withRepetitionPenalty(1.2);
    Generator gen = new Generator(mistral);
    List<Generator.Result> batched = gen.generate(prompts, config, null);
    List<Generator.Result> again = gen.generate(prompts, config.withMaxBatchSize(1), null);
    for (int i = 0; i < prompts.size(); i++) {
      assertThat(again.get(i).generatedIds()).containsExactly(batched.get(i).generatedIds());
    }
    // top-k 1 is greedy
    List<Generator.Result> topOne = gen.generate(prompts, GenerationConfig.greedy(8).sampling(0.7, 1, 1.0, 7), null);
    for (int i = 0; i < prompts.size(); i++) {
      assertThat(topOne.get(i).generatedIds()).containsExactly(cases.get(i).generated());
    }
    // another seed gives another sample somewhere
    List<Generator.Result> other = gen.generate(prompts, GenerationConfig.greedy(8).sampling(1.3, 20, 0.9, 43)
        .withRepetitionPenalty(1.2), null);
    List<String> a = new ArrayList<>();
    List<String> b = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      a.add(Arrays.toString(batched.get(i).generatedIds()));
      b.add(Arrays.toString(other.get(i).generatedIds()));
    }
    assertThat(a).isNotEqualTo(b);
  }

  @Test
  void promptLongerThanTheContextIsAnErrorOrLeftTruncated() {
    int context = mistral.dims().maxPositions();
    int[] longPrompt = new int[context + 5];
    for (int i = 0; i < longPrompt.length; i++) {
      longPrompt[i] = 3 + i % 50;
    }
    Generator gen = new Generator(mistral);
    assertThatThrownBy(() -> gen.generate(longPrompt, GenerationConfig.greedy(2), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("more than the model's context of " + context);
    Generator.Result r = gen.generate(longPrompt, GenerationConfig.greedy(2).withTruncateLeft(true), null);
    assertThat(r.promptLength()).isEqualTo(context);
    // no room left: stops at once on the context, never a silent wrong position
    assertThat(r.finishReason()).isEqualTo(Generator.FinishReason.CONTEXT);
    assertThat(r.generatedIds()).hasSize(1);
  }

  static com.fasterxml.jackson.databind.JsonNode uncheck(String fixture) {
    try {
      return DecoderFixtures.expected(fixture);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
