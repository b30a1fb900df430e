package org.promptrecovery4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

class NativeBackendTest {

  @Test
  void avx512CpusGetTheAvx512BuildOthersTheGenericOne() {
    Set<String> avx512 = Set.of("sse4_2", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd", "avx512_bf16");
    assertThat(NativeBackend.choose(avx512, b -> true)).isEqualTo("-onednn-avx512");
    // AVX-512 F alone (some early CPUs) is not enough for the -avx512 build
    assertThat(NativeBackend.choose(Set.of("avx2", "fma", "avx512f"), b -> true)).isEqualTo("-onednn");
    assertThat(NativeBackend.choose(Set.of(), b -> true)).isEqualTo("-onednn");
    // only builds whose jar is present count
    assertThat(NativeBackend.choose(avx512, b -> b != NativeBackend.Build.ONEDNN_AVX512)).isEqualTo("-onednn");
    assertThat(NativeBackend.choose(Set.of("avx2", "fma"), b -> b == NativeBackend.Build.AVX2)).isEqualTo("-avx2");
    assertThat(NativeBackend.choose(Set.of("sse2"), b -> b == NativeBackend.Build.AVX2)).isEmpty();
  }

  @Test
  void readsTheFlagsOfACpuinfoFile(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("cpuinfo");
    Files.writeString(f, "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512f avx512bw\n\nprocessor\t: 1\nflags\t: fpu\n");
    assertThat(NativeBackend.cpuFlags(f)).containsExactly("avx2", "avx512bw", "avx512f", "fpu");
    assertThat(NativeBackend.cpuFlags(dir.resolve("missing"))).isEmpty();
  }

  @Test
  void theTestJvmLoadedTheBuildChosenForThisCpu() {
    // test-support's launcher listener ran select() before any test
    String ext = System.getProperty(NativeBackend.EXTENSION_PROPERTY);
    assertThat(ext).isEqualTo(NativeBackend.select()).isIn("-onednn-avx512", "-onednn");
    Set<String> flags = NativeBackend.cpuFlags(Path.of("/proc/cpuinfo"));
    assertThat(ext).isEqualTo(flags.containsAll(NativeBackend.AVX512_FLAGS) ? "-onednn-avx512" : "-onednn");
    Nd4j.create(2, 2); // loads the backend
    assertThat(Loader.getLoadedLibraries().values())
        .anyMatch(path -> path != null && path.contains("linux-x86_64" + ext + "/libjnind4jcpu.so"));
    assertThat(NativeBackend.describe()).contains("linux-x86_64" + ext);
  }
}
