package org.promptrecovery4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.promptrecovery4j.weights.Checkpoints;
import org.promptrecovery4j.weights.SafetensorsWriter;
import org.promptrecovery4j.weights.WeightSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code convert --input pytorch_model.bin --output model.safetensors}: same tensors, same dtypes. */
@Command(name = "convert", mixinStandardHelpOptions = true,
    description = "Convert a checkpoint (pytorch_model.bin, an index, model.onnx, or safetensors) to one safetensors file.")
public final class ConvertCommand implements Callable<Integer> {

  @Option(names = "--input", required = true, description = "pytorch_model.bin, *.index.json, *.safetensors, *.onnx or a model folder")
  Path input;

  @Option(names = "--output", required = true, description = "the .safetensors file to write (written atomically)")
  Path output;

  @Override
  public Integer call() throws Exception {
    if (Files.exists(output) && Files.exists(input) && Files.isSameFile(input, output)) {
      throw new IllegalArgumentException("--output is the same file as --input: " + output);
    }
    try (WeightSource source = Checkpoints.open(input)) {
      SafetensorsWriter.write(output, source);
      System.out.println("wrote " + output + ": " + source.names().size() + " tensors, "
          + source.parameterCount() + " parameters");
    }
    return 0;
  }
}
