package org.promptrecovery4j.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which libnd4j build the CPU backend loads, chosen before ND4J starts.
 *
 * <p>The project ships two builds of ND4J 1.0.0-M2.1's natives, both with oneDNN linked in (its bf16
 * matrix product and faster float32 GEMM/GEMV, see docs/performance.md): {@code linux-x86_64-onednn-avx512}
 * and {@code linux-x86_64-onednn} (any x86-64). JavaCPP picks a build by the system property {@value
 * #EXTENSION_PROPERTY}; without it, it tries every build it finds and would load the AVX-512 one on a
 * CPU without AVX-512. {@link #select()} sets the property from the CPU's flags (read from
 * {@code /proc/cpuinfo}) unless the user set it, and only to a build present on the class path.
 *
 * <p>The CLI calls {@link #select()} first thing, and so does every test JVM (a JUnit launcher
 * listener in test-support). An application embedding the library calls it before its first ND4J
 * call, or passes {@code -Dorg.bytedeco.javacpp.platform.extension=-onednn} itself.
 */
public final class NativeBackend {

  /** JavaCPP's choice of native build ({@code -onednn-avx512}, {@code -onednn}). */
  public static final String EXTENSION_PROPERTY = "org.bytedeco.javacpp.platform.extension";

  /** The AVX-512 subsets the {@code -avx512} builds of libnd4j are compiled for. */
  static final Set<String> AVX512_FLAGS = Set.of("avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd");

  /** The builds in order of preference, each with the CPU flags it needs. */
  enum Build {
    ONEDNN_AVX512("-onednn-avx512", AVX512_FLAGS),
    ONEDNN("-onednn", Set.of()),
    AVX2("-avx2", Set.of("avx2", "fma"));

    final String extension;
    final Set<String> needs;

    Build(String extension, Set<String> needs) {
      this.extension = extension;
      this.needs = needs;
    }
  }

  private static final String RESOURCE = "/org/nd4j/linalg/cpu/nativecpu/bindings/linux-x86_64%s/libjnind4jcpu.so";

  private static String chosen;

  private NativeBackend() {}

  /**
   * Sets {@value #EXTENSION_PROPERTY} for this CPU unless already set (by the user, or by an earlier
   * call), and returns the extension in force ("" when none applies: another OS, or the CUDA backend).
   */
  public static synchronized String select() {
    String set = System.getProperty(EXTENSION_PROPERTY);
    if (set != null) {
      return set;
    }
    if (chosen == null) {
      Set<String> flags = cpuFlags(Path.of("/proc/cpuinfo"));
      chosen = choose(flags, b -> NativeBackend.class.getResource(String.format(Locale.ROOT, RESOURCE, b.extension)) != null);
      if (!chosen.isEmpty()) {
        System.setProperty(EXTENSION_PROPERTY, chosen);
      }
    }
    return chosen;
  }

  /** The first build whose jar is present and whose CPU flags {@code flags} has; "" if none. */
  static String choose(Set<String> flags, java.util.function.Predicate<Build> present) {
    for (Build b : Build.values()) {
      if (present.test(b) && flags.containsAll(b.needs)) {
        return b.extension;
      }
    }
    return "";
  }

  /** The flags of the first processor in a {@code /proc/cpuinfo}-style file; empty when unreadable. */
  static Set<String> cpuFlags(Path cpuinfo) {
    try {
      for (String line : Files.readAllLines(cpuinfo)) {
        if (line.startsWith("flags")) {
          int colon = line.indexOf(':');
          return new TreeSet<>(Arrays.asList(line.substring(colon + 1).trim().split("\\s+")));
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or no /proc: fall through (no AVX-512 assumed)
    }
    return Set.of();
  }

  /** A one-line description for logs and benchmark reports: the build and the CPU's vector extensions. */
  public static String describe() {
    Set<String> flags = cpuFlags(Path.of("/proc/cpuinfo"));
    List<String> vector = new ArrayList<>();
    for (String f : flags) {
      if (f.startsWith("avx512") || f.equals("avx2") || f.startsWith("amx")) {
        vector.add(f);
      }
    }
    String ext = System.getProperty(EXTENSION_PROPERTY, "(JavaCPP default)");
    return "natives linux-x86_64" + ext + ", BLAS " + System.getProperty("org.bytedeco.openblas.load", "openblas")
        + ", CPU " + String.join(" ", vector);
  }
}
