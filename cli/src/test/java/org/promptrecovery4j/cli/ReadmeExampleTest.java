package org.promptrecovery4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's JVM example compiles against the project and prints a prompt for every sample row. */
class ReadmeExampleTest {

  static final Path ROOT = CliRunner.FIXTURES.toAbsolutePath().getParent();

  @Test
  void theReadmesJavaExampleCompilesAndRuns(@TempDir Path tmp) throws Exception {
    String readme = Files.readString(ROOT.resolve("README.md"));
    int start = readme.indexOf("```java\n");
    assertThat(start).as("a ```java block in README.md").isNotNegative();
    String code = readme.substring(start + 8, readme.indexOf("```", start + 8));
    assertThat(code).contains("public class RecoverPrompts");
    assertThat(code.strip().lines().count()).isLessThanOrEqualTo(14);
    Path src = tmp.resolve("RecoverPrompts.java");
    Files.writeString(src, code);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc = javac.run(null, null, err, "-d", tmp.toString(), "-cp", System.getProperty("java.class.path"), src.toString());
    assertThat(rc).as(err.toString(StandardCharsets.UTF_8)).isZero();

    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "@" + ROOT.resolve("jvm.options"), "-Dorg.bytedeco.openblas.load=" + System.getProperty("org.bytedeco.openblas.load", "mkl_rt"),
        "-Dpr4j.cache=" + Path.of(System.getProperty("pr4j.cache", "target/pr4j-cache")).toAbsolutePath(),
        "-cp", tmp + java.io.File.pathSeparator + System.getProperty("java.class.path"), "RecoverPrompts"));
    Path log = tmp.resolve("run.log");
    Process p = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(false)
        .redirectOutput(log.toFile()).redirectError(tmp.resolve("err.log").toFile()).start();
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(tmp.resolve("err.log"))).isZero();
    List<String> lines = Files.readAllLines(log).stream().filter(l -> l.matches("s0\\d: .+")).toList();
    assertThat(lines).hasSize(8);
    assertThat(lines.get(0)).startsWith("s01: ").containsIgnoringCase("pirate");
  }
}
