package org.promptrecovery4j.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.promptrecovery4j.weights.RestrictedUnpickler.Global;
import org.promptrecovery4j.weights.RestrictedUnpickler.PickleException;
import org.promptrecovery4j.weights.RestrictedUnpickler.Tuple;

/** The pickle VM on its own, with pickles CPython wrote (hex below) for protocols 2 to 5. */
class RestrictedUnpicklerTest {

  /*
   * v = {'a': [1, 2.5, True, False, None, 'xé', b'by', (1, 2), (3,), (), (1, 2, 3, 4), 2**70, -5, 300, 70000,
   *            -2**31, 2**31, -2**63],
   *      'b': OrderedDict([('k', [])]), 'c': {1, 2}, 'd': frozenset([3]), 'shared': None}
   * l = [9]; v['l1'] = l; v['l2'] = l
   * pickle.dumps(v, protocol=p).hex()
   */
  static final String P2 = "80027d71002858010000006171015d7102284b0147400400000000000088894e580300000078c3a97103635f636f646563730a656e636f64650a710458020000006279710558060000006c6174696e3171068671075271084b014b028671094b0385710a29284b014b024b034b0474710b8a090000000000000000404afbffffff4d2c014a701101004a000000808a0500000080008a08000000000000008065580100000062710c63636f6c6c656374696f6e730a4f726465726564446963740a710d2952710e58010000006b710f5d7110735801000000637111635f5f6275696c74696e5f5f0a7365740a71125d7113284b014b02658571145271155801000000647116635f5f6275696c74696e5f5f0a66726f7a656e7365740a71175d71184b036185711952711a5806000000736861726564711b4e58020000006c31711c5d711d4b096158020000006c32711e681d752e";
  static final String P3 = "80037d71002858010000006171015d7102284b0147400400000000000088894e580300000078c3a971034302627971044b014b028671054b0385710629284b014b024b034b047471078a090000000000000000404afbffffff4d2c014a701101004a000000808a0500000080008a08000000000000008065580100000062710863636f6c6c656374696f6e730a4f726465726564446963740a71092952710a58010000006b710b5d710c73580100000063710d636275696c74696e730a7365740a710e5d710f284b014b02658571105271115801000000647112636275696c74696e730a66726f7a656e7365740a71135d71144b0361857115527116580600000073686172656471174e58020000006c3171185d71194b096158020000006c32711a6819752e";
  static final String P4 = "800495c6000000000000007d94288c0161945d94284b0147400400000000000088894e8c0378c3a99443026279944b014b0286944b03859429284b014b024b034b0474948a090000000000000000404afbffffff4d2c014a701101004a000000808a0500000080008a080000000000000080658c0162948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b945d94738c0163948f94284b014b02908c016494284b0391948c06736861726564944e8c026c31945d944b09618c026c32946815752e";
  static final String P5 = "800595c6000000000000007d94288c0161945d94284b0147400400000000000088894e8c0378c3a99443026279944b014b0286944b03859429284b014b024b034b0474948a090000000000000000404afbffffff4d2c014a701101004a000000808a0500000080008a080000000000000080658c0162948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b945d94738c0163948f94284b014b02908c016494284b0391948c06736861726564944e8c026c31945d944b09618c026c32946815752e";

  /** Accepts every global and records calls as ("call", global, args); for testing the VM alone. */
  static final class Permissive implements RestrictedUnpickler.Handler {
    @Override
    public Object global(String module, String name, int offset) {
      return new Global(module, name);
    }

    @Override
    public Object reduce(Object callable, Tuple args, int offset) {
      if (callable.toString().equals("collections.OrderedDict")) {
        return new java.util.LinkedHashMap<>();
      }
      return new Tuple(List.of("call", callable, args));
    }

    @Override
    public Object newObject(Object cls, Tuple args, int offset) {
      return new Tuple(List.of("new", cls, args));
    }

    @Override
    public Object persistentLoad(Object pid, int offset) {
      return new Tuple(List.of("pid", pid));
    }
  }

  @SuppressWarnings("unchecked")
  static <T> T cast(Object o) {
    return (T) o;
  }

  static Object load(String hex, RestrictedUnpickler.Handler h) {
    return RestrictedUnpickler.load(ByteBuffer.wrap(HexFormat.of().parseHex(hex)), h);
  }

  @Test
  void protocols4and5DecodeEveryValue() {
    for (String hex : new String[] {P4, P5}) {
      Object v = load(hex, new Permissive());
      assertThat(v).isInstanceOf(Map.class);
      Map<Object, Object> m = cast(v);
      assertThat(m.keySet()).containsExactly("a", "b", "c", "d", "shared", "l1", "l2");
      List<Object> a = cast(m.get("a"));
      assertThat(a.subList(0, 6)).containsExactly(1L, 2.5, true, false, null, "xé");
      assertThat((byte[]) a.get(6)).containsExactly('b', 'y');
      assertThat(a.get(7)).isEqualTo(new Tuple(List.of(1L, 2L)));
      assertThat(a.get(8)).isEqualTo(new Tuple(List.of(3L)));
      assertThat(a.get(9)).isEqualTo(new Tuple(List.of()));
      assertThat(a.get(10)).isEqualTo(new Tuple(List.of(1L, 2L, 3L, 4L)));
      assertThat(a.subList(11, 18)).containsExactly(BigInteger.TWO.pow(70), -5L, 300L, 70000L, -(1L << 31), 1L << 31,
          Long.MIN_VALUE);
      assertThat(RestrictedUnpicklerTest.<Map<Object, Object>>cast(m.get("b"))).containsEntry("k", List.of());
      assertThat(RestrictedUnpicklerTest.<Set<Object>>cast(m.get("c"))).containsExactlyInAnyOrder(1L, 2L);
      assertThat(RestrictedUnpicklerTest.<Set<Object>>cast(m.get("d"))).containsExactly(3L);
      assertThat(m.get("shared")).isNull();
      assertThat(m.get("l1")).isSameAs(m.get("l2")).isEqualTo(List.of(9L));
    }
  }

  @Test
  void protocols2and3ParseButTheirBuiltinCallsAreRefusedForCheckpoints() {
    for (String hex : new String[] {P2, P3}) {
      Map<Object, Object> m = cast(load(hex, new Permissive()));
      assertThat(m.keySet()).containsExactly("a", "b", "c", "d", "shared", "l1", "l2");
      assertThat(RestrictedUnpicklerTest.<List<Object>>cast(m.get("a")).get(11)).isEqualTo(BigInteger.TWO.pow(70));
      assertThat(m.get("l1")).isSameAs(m.get("l2"));
      // sets are builtins calls in protocols 2 and 3, which a checkpoint may not make
      assertThatThrownBy(() -> load(hex, new TorchCheckpoint.TorchHandler()))
          .isInstanceOf(PickleException.class)
          .hasMessageMatching("refused global '(_codecs.encode|builtins.set)'.*");
    }
  }

  @Test
  void opcodeNames() {
    assertThat(RestrictedUnpickler.opcodeName('R')).isEqualTo("REDUCE");
    assertThat(RestrictedUnpickler.opcodeName(0x93)).isEqualTo("STACK_GLOBAL");
    assertThat(RestrictedUnpickler.opcodeName(0x98)).isEqualTo("READONLY_BUFFER");
    assertThat(RestrictedUnpickler.opcodeName(0xfe)).contains("not a pickle opcode");
  }

  @Test
  void positionEndsAfterStopSoPicklesCanFollowEachOther() {
    ByteBuffer b = ByteBuffer.wrap(HexFormat.of().parseHex("80024b072e80024b082e"));
    assertThat(RestrictedUnpickler.load(b, new Permissive())).isEqualTo(7L);
    assertThat(b.position()).isEqualTo(5);
    assertThat(RestrictedUnpickler.load(b, new Permissive())).isEqualTo(8L);
    assertThat(b.hasRemaining()).isFalse();
  }

  @Test
  void unhashableKeysAndMisusedContainersFail() {
    // {[]: 1}
    assertThatThrownBy(() -> load("80027d5d4b01732e", new Permissive()))
        .isInstanceOf(PickleException.class).hasMessageContaining("unhashable dict key of type list at byte 6");
    // APPEND to a dict
    assertThatThrownBy(() -> load("80027d4b01612e", new Permissive()))
        .isInstanceOf(PickleException.class).hasMessageContaining("APPEND to dict, not a list at byte 5");
    // a huge BINUNICODE8 length
    assertThatThrownBy(() -> load("80048dffffffffffffff7f2e", new Permissive()))
        .isInstanceOf(PickleException.class).hasMessageContaining("pickle is truncated");
  }

  @Test
  void deepNestingFailsCleanly() {
    // a dict key of 100 nested tuples
    StringBuilder key = new StringBuilder("80027d29");
    key.append("85".repeat(100)).append("4b01732e");
    assertThatThrownBy(() -> load(key.toString(), new Permissive()))
        .isInstanceOf(PickleException.class).hasMessageContaining("nested more than 64 tuples deep");
    // a persistent id of 200,000 nested tuples: the message stays short, nothing overflows the stack
    String deep = "8002" + "29" + "85".repeat(200_000) + "512e";
    assertThatThrownBy(() -> load(deep, new TorchCheckpoint.TorchHandler()))
        .isInstanceOf(PickleException.class)
        .hasMessageStartingWith("malformed storage persistent id (((")
        .hasMessageEndingWith("(BINPERSID at byte 200003)");
  }
}
