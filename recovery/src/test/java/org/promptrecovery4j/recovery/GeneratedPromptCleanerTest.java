package org.promptrecovery4j.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class GeneratedPromptCleanerTest {

  static final String FALLBACK = "Improve the text in the style of a formal letter.";
  final GeneratedPromptCleaner cleaner = new GeneratedPromptCleaner(FALLBACK);

  /** What LLM recoverers really answer (Mistral / Gemma / phi-2 styles), and the prompt kept. */
  static Stream<Arguments> generated() {
    return Stream.of(
        // already clean
        Arguments.of("Rewrite this text as a pirate shanty.", "Rewrite this text as a pirate shanty."),
        Arguments.of("  make it more formal  ", "Make it more formal"),
        // labels
        Arguments.of("Prompt: Make it formal", "Make it formal"),
        Arguments.of("Rewrite prompt: Convert the text into a haiku.", "Convert the text into a haiku."),
        Arguments.of("Instruction: Rewrite the email as a sonnet", "Rewrite the email as a sonnet"),
        Arguments.of("Instructions: Summarize this in two sentences.", "Summarize this in two sentences."),
        Arguments.of("**Rewrite Prompt:** Turn this into a children's story.", "Turn this into a children's story."),
        Arguments.of("Answer: Make the text sound like Shakespeare.", "Make the text sound like Shakespeare."),
        Arguments.of("Recovered prompt: \"Write this as a news report.\"", "Write this as a news report."),
        // lead-ins ending in ':'
        Arguments.of("Here is the prompt: Make it formal", "Make it formal"),
        Arguments.of("Here's the rewrite prompt: rewrite it as a rap song", "Rewrite it as a rap song"),
        Arguments.of("Sure! Here is the prompt that was likely used:\n\n\"Rewrite the letter in a more optimistic tone.\"",
            "Rewrite the letter in a more optimistic tone."),
        Arguments.of("Sure, here's the prompt:\n\n**Prompt:** Rewrite this story from the dog's point of view.",
            "Rewrite this story from the dog's point of view."),
        Arguments.of("Certainly! Based on the texts, the original prompt was probably:\n> Make this sound like a"
            + " weather forecast.", "Make this sound like a weather forecast."),
        Arguments.of("The prompt was likely: \u201cTransform the essay into a limerick.\u201d",
            "Transform the essay into a limerick."),
        Arguments.of("The most likely prompt is something like: 'Make it sound like an old sea captain.'",
            "Make it sound like an old sea captain."),
        Arguments.of("I think the prompt was: add more emojis to the text", "Add more emojis to the text"),
        Arguments.of("My best guess: Rewrite it as a motivational speech.", "Rewrite it as a motivational speech."),
        Arguments.of("Output: Make the tone sarcastic", "Make the tone sarcastic"),
        Arguments.of("Sure.\nMake it rhyme like a Dr. Seuss book.", "Make it rhyme like a Dr. Seuss book."),
        Arguments.of("Of course! Rewrite the text as a tweet.", "Rewrite the text as a tweet."),
        // markdown
        Arguments.of("## Prompt\n\n**Rewrite the text as a formal apology.**", "Rewrite the text as a formal apology."),
        Arguments.of("### Rewritten Prompt\nRewrite this prompt as a riddle", "Rewrite this prompt as a riddle"),
        Arguments.of("- Rewrite the essay as a dialogue between two friends", "Rewrite the essay as a dialogue between two friends"),
        Arguments.of("* Convert this into a *recipe* format", "Convert this into a *recipe* format"),
        Arguments.of("1. Make it shorter and punchier", "Make it shorter and punchier"),
        Arguments.of("`Rewrite it in the style of Hemingway`", "Rewrite it in the style of Hemingway"),
        Arguments.of("__Make the text sound mysterious__", "Make the text sound mysterious"),
        Arguments.of("Rewrite the essay replacing ``normal'' with ``shocking''", "Rewrite the essay replacing \"normal\" with \"shocking\""),
        Arguments.of("Provide a new narrative for this **Harry Potter** book", "Provide a new narrative for this Harry Potter book"),
        Arguments.of("*Make it sound like a fairy tale*", "Make it sound like a fairy tale"),
        // quotes
        Arguments.of("\"Rewrite this as a villain's monologue\"", "Rewrite this as a villain's monologue"),
        Arguments.of("'Make it sound like it's from the 1920s'", "Make it sound like it's from the 1920s"),
        Arguments.of("\u00abR\u00e9\u00e9cris ce texte comme un po\u00e8me\u00bb", "R\u00e9\u00e9cris ce texte comme un po\u00e8me"),
        Arguments.of("\"Make it funny\" and \"keep it short\"", "\"Make it funny\" and \"keep it short\""),
        // polite forms and questions
        Arguments.of("Can you make this more concise?", "Make this more concise."),
        Arguments.of("Could you rewrite this email to sound more professional?", "Rewrite this email to sound more professional."),
        Arguments.of("Could you please, turn it into a poem?", "Turn it into a poem."),
        Arguments.of("Please can you make the text sound like a pirate??", "Make the text sound like a pirate."),
        Arguments.of("Would you rewrite the story as a horror tale?", "Rewrite the story as a horror tale."),
        Arguments.of("I want you to rewrite this in the voice of a sports commentator",
            "Rewrite this in the voice of a sports commentator"),
        Arguments.of("Prompt: \"Can you make it sound like a song?\"", "Make it sound like a song."),
        Arguments.of("What if this were written by a cat?", "What if this were written by a cat."),
        // colons that belong to the prompt
        Arguments.of("Write like Tupac Shakur: Channel the powerful lyrical style of Tupac.",
            "Write like Tupac Shakur: Channel the powerful lyrical style of Tupac."),
        Arguments.of("Answer the letter as a pirate: with lots of arrr", "Answer the letter as a pirate: with lots of arrr"),
        Arguments.of("Enthusiastic Scientist: Use the excited tone of an enthusiastic scientist.",
            "Enthusiastic Scientist: Use the excited tone of an enthusiastic scientist."),
        Arguments.of("Prompt: Rewrite this text as a poem: with rhymes", "Rewrite this text as a poem: with rhymes"),
        Arguments.of("Rewrite the following paragraph to sound more polite:", "Rewrite the following paragraph to sound more polite:"),
        // only the first content line; whitespace runs collapse
        Arguments.of("Make it formal.\n\nThis prompt asks the model to change the register.", "Make it formal."),
        Arguments.of("\r\n\r\nMake\tthe   text\u00a0cheerful\r\n", "Make the text cheerful"));
  }

  @ParameterizedTest
  @MethodSource("generated")
  void keepsTheRecoveredPrompt(String generated, String expected) {
    GeneratedPromptCleaner.Result r = cleaner.explain(generated);
    assertThat(r.prompt()).isEqualTo(expected);
    assertThat(r.isFallback()).isFalse();
  }

  static Stream<Arguments> unusable() {
    return Stream.of(
        Arguments.of(""),
        Arguments.of((Object) null),
        Arguments.of("   \n\n  "),
        Arguments.of("Formal."), // one word
        Arguments.of("**Prompt:**"),
        Arguments.of("Here is the prompt:"),
        Arguments.of("Sure!"),
        Arguments.of("\"\""),
        Arguments.of("I'm sorry, but I cannot determine the original prompt from these texts."),
        Arguments.of("As an AI language model, I don't know the prompt."),
        Arguments.of("word ".repeat(101)));
  }

  @ParameterizedTest
  @MethodSource("unusable")
  void fallsBackWhenNothingUsableIsLeft(String generated) {
    GeneratedPromptCleaner.Result r = cleaner.explain(generated);
    assertThat(r.prompt()).isEqualTo(FALLBACK);
    assertThat(r.isFallback()).isTrue();
  }

  @Test
  void wordLimitsAreInclusive() {
    assertThat(cleaner.clean("Be brief")).isEqualTo("Be brief");
    String hundred = ("w ".repeat(100)).strip();
    assertThat(cleaner.clean(hundred)).isEqualTo("W" + hundred.substring(1));
    assertThat(cleaner.clean(hundred + " w")).isEqualTo(FALLBACK);
  }

  @Test
  void cleanOrEmptyGivesTheEmptyStringWhereCleanGivesTheFallback() {
    assertThat(GeneratedPromptCleaner.cleanOrEmpty("Sure! Here is the prompt: \"rewrite it as a poem?\""))
        .isEqualTo("Rewrite it as a poem.");
    for (String nothing : new String[] {"", "Poem", "I'm sorry, I cannot help with that.", "## Prompt", null}) {
      assertThat(GeneratedPromptCleaner.cleanOrEmpty(nothing)).as(String.valueOf(nothing)).isEmpty();
      assertThat(cleaner.clean(nothing)).isEqualTo(FALLBACK);
    }
  }

  @Test
  void theFallbackMustBeUsable() {
    assertThatThrownBy(() -> new GeneratedPromptCleaner(" \u00a0")).hasMessageContaining("fallback prompt is blank");
    assertThatThrownBy(() -> new GeneratedPromptCleaner(null)).hasMessageContaining("fallback prompt is blank");
  }

  @Test
  void leadInsAreRecognisedByTheirWords() {
    assertThat(GeneratedPromptCleaner.isLeadIn("The rewrite prompt could be")).isTrue();
    assertThat(GeneratedPromptCleaner.isLeadIn("Rewritten prompt (my guess)")).isTrue();
    assertThat(GeneratedPromptCleaner.isLeadIn("Rewrite the prompt as a question")).isFalse();
    assertThat(GeneratedPromptCleaner.isLeadIn("Transform this instruction manual into a poem")).isFalse();
    assertThat(GeneratedPromptCleaner.isLeadIn("Write like Stephen King")).isFalse();
    assertThat(GeneratedPromptCleaner.isLeadIn("Final answer")).isTrue();
    assertThat(GeneratedPromptCleaner.isLeadIn("Answer the letter as a pirate")).isFalse();
  }
}
