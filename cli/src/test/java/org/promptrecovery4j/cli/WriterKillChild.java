package org.promptrecovery4j.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.promptrecovery4j.core.Csv;

/**
 * The child JVM of {@link WriterKillTest} where the real entry ({@link Main}) does not fit:
 *
 * <ul>
 *   <li>{@code csv OUT ROWS}: writes a CSV of ROWS rows through the project's CSV writer, {@link Csv#write};
 *   <li>{@code run-all FILE}: runs each line of FILE (arguments separated by tabs) through {@link Main#run}, one
 *       after the other in this JVM; exit 1 if any command failed.
 * </ul>
 */
public final class WriterKillChild {

  private WriterKillChild() {}

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "csv" -> {
        Csv.write(Path.of(args[1]), List.of("id", "text", "score"), csvRows(Integer.parseInt(args[2])));
        System.exit(0);
      }
      case "run-all" -> {
        int failed = 0;
        for (String line : Files.readAllLines(Path.of(args[1]), StandardCharsets.UTF_8)) {
          if (!line.isBlank()) {
            int rc = Main.run(line.split("\t"));
            System.err.println("rc " + rc + ": " + line);
            failed += rc == 0 ? 0 : 1;
          }
        }
        System.exit(failed == 0 ? 0 : 1);
      }
      default -> throw new IllegalArgumentException("unknown mode " + args[0]);
    }
  }

  /** Rows with quoting work to do (commas, quotes, line breaks). */
  static List<List<String>> csvRows(int n) {
    List<List<String>> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(List.of("row-" + i, "text " + i + ", with \"quotes\"\nand a line break", Integer.toString(i * 7 % 101)));
    }
    return rows;
  }
}
