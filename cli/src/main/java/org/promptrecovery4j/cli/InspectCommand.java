package org.promptrecovery4j.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.promptrecovery4j.weights.ModelFolder;
import org.promptrecovery4j.weights.TensorInfo;
import org.promptrecovery4j.weights.WeightSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code inspect --model DIR}: model type, stored dtype, parameter count and the tensor list. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
    description = "Show a HuggingFace model folder: model type, dtype, parameter count, tensors.")
public final class InspectCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "HuggingFace model folder (config.json + weights), or a"
      + " built-in model (all-MiniLM-L6-v2)")
  String model;

  @Option(names = "--no-tensors", description = "Do not list the tensors")
  boolean noTensors;

  @Override
  public Integer call() throws Exception {
    PrintStream out = System.out;
    try (ModelFolder folder = ModelFolder.open(org.promptrecovery4j.models.builtin.BuiltinModels.resolve(model))) {
      WeightSource w = folder.weights();
      Map<String, Long> byDtype = new TreeMap<>();
      for (String name : w.names()) {
        TensorInfo t = w.info(name);
        byDtype.merge(t.dtype().name(), t.numel(), Long::sum);
      }
      out.println("model:       " + folder.dir());
      out.println("model_type:  " + folder.config().modelType()
          + (folder.isSentenceTransformer() ? " (sentence-transformers folder)" : ""));
      out.println("weights:     " + w.location().getFileName());
      out.println("dtype:       " + dominant(byDtype)
          + (folder.config().declaredDtype() != null ? " (config: " + folder.config().declaredDtype() + ")" : "")
          + "  " + byDtype);
      out.println("parameters:  " + w.parameterCount());
      out.println("tensors:     " + w.names().size());
      if (!noTensors) {
        for (String name : w.names()) {
          TensorInfo t = w.info(name);
          out.printf("  %-60s %-5s %s%n", name, t.dtype(), t.shapeString());
        }
      }
    }
    return 0;
  }

  private static String dominant(Map<String, Long> byDtype) {
    return byDtype.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("none");
  }
}
