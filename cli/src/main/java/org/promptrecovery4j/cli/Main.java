package org.promptrecovery4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code ./prompt-recovery}: each subcommand is a thin shell over a library call. */
@Command(
    name = "prompt-recovery",
    mixinStandardHelpOptions = true,
    version = "PromptRecovery4J 0.1.0",
    description = "Recover the prompt an LLM was given to rewrite a text, on the JVM.",
    subcommands = {
      PredictCommand.class,
      EvaluateCommand.class,
      InspectCommand.class,
      ConvertCommand.class,
      TokenizeCommand.class,
      DetokenizeCommand.class,
      GenerateCommand.class,
      ForwardCommand.class,
      CompareCommand.class,
      EmbedCommand.class,
      FeaturesCommand.class,
      ScoreCommand.class,
      BenchCommand.class,
      BenchGemmCommand.class,
      BenchDecoderCommand.class,
      MergeLoraCommand.class,
      TrainLoraCommand.class,
      TrainHeadCommand.class,
      TrainRegressorCommand.class,
      PredictEmbeddingCommand.class,
      CleanCommand.class,
      RewriteCommand.class,
      MeanPromptCommand.class,
    })
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.err);
  }

  public static void main(String[] args) {
    org.promptrecovery4j.core.NativeBackend.select(); // before anything loads ND4J
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code (tests call this instead of {@link #main}). */
  public static int run(String... args) {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          // user errors (bad files, bad arguments) print one clear line; bugs keep their stack trace
          if (ex instanceof IllegalArgumentException || ex instanceof java.io.IOException
              || ex instanceof java.io.UncheckedIOException || ex instanceof IllegalStateException
              || ex instanceof UnsupportedOperationException) {
            commandLine.getErr().println("error: " + ex.getMessage());
          } else {
            ex.printStackTrace(commandLine.getErr());
          }
          return 1;
        });
    return cl.execute(args);
  }
}
