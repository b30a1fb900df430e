package org.promptrecovery4j.weights;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pickle reader that never executes anything: it walks the opcodes of one pickle and builds plain
 * Java values. Python objects become: {@code str} → {@link String}, {@code int} → {@link Long} (or
 * {@link BigInteger} when it does not fit), {@code float} → {@link Double}, {@code bool} → {@link Boolean},
 * {@code None} → {@code null}, {@code bytes} → {@code byte[]}, {@code list} → {@link ArrayList},
 * {@code tuple} → {@link Tuple}, {@code dict} → {@link LinkedHashMap}, {@code set} → {@link HashSet}.
 *
 * <p>Every global the pickle names ({@code GLOBAL}, {@code STACK_GLOBAL}) is put to the {@link Handler}
 * as soon as it is read, which refuses anything it does not know, so a forbidden name fails before any
 * later opcode. {@code REDUCE}, {@code NEWOBJ} and {@code BINPERSID} are also given to the handler, which
 * only builds Java records. {@code BUILD} state is dropped (it would set attributes, such as a state
 * dict's {@code _metadata}). Opcodes that can only serve to run code or that state dicts never use
 * ({@code INST}, {@code OBJ}, {@code EXT*}, text {@code PERSID}, out-of-band buffers, protocol-0 text
 * values) are refused with their name and byte offset.
 */
final class RestrictedUnpickler {

  /** A failure at a byte offset of the pickle; the caller adds the file name. */
  static final class PickleException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    PickleException(String message) {
      super(message);
    }
  }

  /** A Python tuple (immutable, compared by value so it can be a dict key). */
  record Tuple(List<Object> items) {
    Tuple {
      items = Collections.unmodifiableList(new ArrayList<>(items));
    }

    int size() {
      return items.size();
    }

    Object get(int i) {
      return items.get(i);
    }

    @Override
    public String toString() {
      return describe(this);
    }
  }

  /** A global a handler has accepted ({@code module.name}). */
  record Global(String module, String name) {
    @Override
    public String toString() {
      return module + "." + name;
    }
  }

  /** What the pickle may refer to and what calling those things means; nothing here runs Python code. */
  interface Handler {
    /** The value of global {@code module.name}; throws to refuse it. */
    Object global(String module, String name, int offset);

    /** {@code callable(*args)} for a callable the handler returned from {@link #global}. */
    Object reduce(Object callable, Tuple args, int offset);

    /** {@code cls.__new__(cls, *args)}. */
    Object newObject(Object cls, Tuple args, int offset);

    /** The object a persistent id stands for. */
    Object persistentLoad(Object pid, int offset);
  }

  private static final Object MARK_OBJECT = new Object();
  private static final int MAX_KEY_DEPTH = 64;

  /** Opcode names for messages (pickle protocols 0–5). */
  private static final Map<Integer, String> NAMES = new HashMap<>();

  static {
    String[][] ops = {
        {"(", "MARK"}, {".", "STOP"}, {"0", "POP"}, {"1", "POP_MARK"}, {"2", "DUP"}, {"F", "FLOAT"},
        {"I", "INT"}, {"J", "BININT"}, {"K", "BININT1"}, {"L", "LONG"}, {"M", "BININT2"}, {"N", "NONE"},
        {"P", "PERSID"}, {"Q", "BINPERSID"}, {"R", "REDUCE"}, {"S", "STRING"}, {"T", "BINSTRING"},
        {"U", "SHORT_BINSTRING"}, {"V", "UNICODE"}, {"X", "BINUNICODE"}, {"a", "APPEND"}, {"b", "BUILD"},
        {"c", "GLOBAL"}, {"d", "DICT"}, {"}", "EMPTY_DICT"}, {"e", "APPENDS"}, {"g", "GET"}, {"h", "BINGET"},
        {"i", "INST"}, {"j", "LONG_BINGET"}, {"l", "LIST"}, {"]", "EMPTY_LIST"}, {"o", "OBJ"}, {"p", "PUT"},
        {"q", "BINPUT"}, {"r", "LONG_BINPUT"}, {"s", "SETITEM"}, {"t", "TUPLE"}, {")", "EMPTY_TUPLE"},
        {"u", "SETITEMS"}, {"G", "BINFLOAT"}, {"B", "BINBYTES"}, {"C", "SHORT_BINBYTES"},
    };
    for (String[] op : ops) {
      NAMES.put((int) op[0].charAt(0), op[1]);
    }
    String[] high = {
        "PROTO", "NEWOBJ", "EXT1", "EXT2", "EXT4", "TUPLE1", "TUPLE2", "TUPLE3", "NEWTRUE", "NEWFALSE", "LONG1",
        "LONG4", "SHORT_BINUNICODE", "BINUNICODE8", "BINBYTES8", "EMPTY_SET", "ADDITEMS", "FROZENSET",
        "NEWOBJ_EX", "STACK_GLOBAL", "MEMOIZE", "FRAME", "BYTEARRAY8", "NEXT_BUFFER", "READONLY_BUFFER",
    };
    for (int i = 0; i < high.length; i++) {
      NAMES.put(0x80 + i, high[i]);
    }
  }

  /** The opcode's name, or its hex value when it is no pickle opcode. */
  static String opcodeName(int op) {
    String n = NAMES.get(op);
    return n != null ? n : String.format("0x%02x (not a pickle opcode)", op);
  }

  private final ByteBuffer in;
  private final Handler handler;
  private final List<Object> stack = new ArrayList<>();
  private final List<Integer> marks = new ArrayList<>();
  private final Map<Long, Object> memo = new HashMap<>();
  private int opOffset;
  /** Values dict keys may still visit, for the whole pickle (see {@link #key}). */
  private final long[] keyBudget;

  private RestrictedUnpickler(ByteBuffer in, Handler handler) {
    this.in = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    this.handler = handler;
    this.keyBudget = new long[] {KEY_BUDGET_PER_CALL + 16L * in.remaining()};
  }

  /**
   * Reads one pickle from {@code in} starting at its position; on return the position is just after
   * the {@code STOP} opcode. Byte offsets in messages are positions in {@code in} (not from where the
   * pickle starts), so for a buffer over a whole file they are file offsets.
   */
  static Object load(ByteBuffer in, Handler handler) {
    RestrictedUnpickler u = new RestrictedUnpickler(in, handler);
    Object result;
    try {
      result = u.run();
    } catch (StackOverflowError e) { // a safety net only: keys are depth-checked, messages use describe()
      throw new PickleException("pickle nests values too deeply near byte " + u.opOffset);
    }
    in.position(u.in.position());
    return result;
  }

  private Object run() {
    while (true) {
      if (!in.hasRemaining()) {
        throw new PickleException("pickle ends at byte " + in.position() + " without a STOP opcode (truncated?)");
      }
      opOffset = in.position();
      int op = in.get() & 0xff;
      switch (op) {
        case 0x80 -> { // PROTO
          int proto = u8();
          if (proto > 5) {
            throw error("unsupported pickle protocol " + proto);
          }
        }
        case 0x95 -> { // FRAME: a length hint only
          long len = in.getLong(need(8));
          if (len < 0 || len > in.remaining()) {
            throw error("FRAME of " + len + " bytes goes beyond the end of the pickle (truncated?)");
          }
        }
        case '.' -> { // STOP
          Object result = pop();
          if (!marks.isEmpty()) {
            throw error("STOP with an open MARK");
          }
          return result;
        }
        case '(' -> {
          marks.add(stack.size());
          stack.add(MARK_OBJECT);
        }
        case '0' -> pop();
        case '1' -> popMark();
        case '2' -> push(peek());
        case 'N' -> push(null);
        case 0x88 -> push(Boolean.TRUE);
        case 0x89 -> push(Boolean.FALSE);
        case 'J' -> push((long) in.getInt(need(4)));
        case 'K' -> push((long) u8());
        case 'M' -> push((long) (in.getShort(need(2)) & 0xffff));
        case 0x8a -> push(longFrom(bytes(u8())));
        case 0x8b -> push(longFrom(bytes(length(in.getInt(need(4)) & 0xffffffffL))));
        case 'G' -> push(ByteBuffer.wrap(bytes(8)).order(ByteOrder.BIG_ENDIAN).getDouble());
        case 'X' -> push(utf8(length(in.getInt(need(4)) & 0xffffffffL)));
        case 0x8c -> push(utf8(u8()));
        case 0x8d -> push(utf8(length(in.getLong(need(8)))));
        case 'T' -> push(latin1(length(in.getInt(need(4)))));
        case 'U' -> push(latin1(u8()));
        case 'B' -> push(bytes(length(in.getInt(need(4)) & 0xffffffffL)));
        case 'C' -> push(bytes(u8()));
        case 0x8e -> push(bytes(length(in.getLong(need(8)))));
        case '}' -> push(new LinkedHashMap<>());
        case ']' -> push(new ArrayList<>());
        case ')' -> push(new Tuple(List.of()));
        case 0x8f -> push(new HashSet<>());
        case 'd' -> {
          List<Object> items = popMark();
          if (items.size() % 2 != 0) {
            throw error("DICT with an odd number of items");
          }
          Map<Object, Object> d = new LinkedHashMap<>();
          for (int i = 0; i < items.size(); i += 2) {
            d.put(key(items.get(i)), items.get(i + 1));
          }
          push(d);
        }
        case 'l' -> push(new ArrayList<>(popMark()));
        case 't' -> push(new Tuple(popMark()));
        case 0x85 -> push(new Tuple(popN(1)));
        case 0x86 -> push(new Tuple(popN(2)));
        case 0x87 -> push(new Tuple(popN(3)));
        case 0x91 -> push(Collections.unmodifiableSet(new HashSet<>(hashables(popMark()))));
        case 'a' -> {
          Object v = pop();
          list(peek()).add(v);
        }
        case 'e' -> {
          List<Object> items = popMark();
          list(peek()).addAll(items);
        }
        case 0x90 -> {
          List<Object> items = popMark();
          Object target = peek();
          if (!(target instanceof HashSet<?>)) {
            throw error("ADDITEMS on " + typeName(target) + ", not a set");
          }
          @SuppressWarnings("unchecked")
          Set<Object> s = (Set<Object>) target;
          s.addAll(hashables(items));
        }
        case 's' -> {
          Object v = pop();
          Object k = pop();
          dict(peek()).put(key(k), v);
        }
        case 'u' -> {
          List<Object> items = popMark();
          if (items.size() % 2 != 0) {
            throw error("SETITEMS with an odd number of items");
          }
          Map<Object, Object> d = dict(peek());
          for (int i = 0; i < items.size(); i += 2) {
            d.put(key(items.get(i)), items.get(i + 1));
          }
        }
        case 'q' -> memo.put((long) u8(), peek());
        case 'r' -> memo.put(in.getInt(need(4)) & 0xffffffffL, peek());
        case 0x94 -> memo.put((long) memo.size(), peek());
        case 'p' -> memo.put(parseIndex(line()), peek());
        case 'h' -> push(memoGet(u8()));
        case 'j' -> push(memoGet(in.getInt(need(4)) & 0xffffffffL));
        case 'g' -> push(memoGet(parseIndex(line())));
        case 'c' -> {
          String module = line();
          String name = line();
          push(handler.global(module, name, opOffset));
        }
        case 0x93 -> {
          Object name = pop();
          Object module = pop();
          if (!(module instanceof String m) || !(name instanceof String n)) {
            throw error("STACK_GLOBAL needs two strings, got " + typeName(module) + " and " + typeName(name));
          }
          push(handler.global(m, n, opOffset));
        }
        case 'R' -> {
          Object args = pop();
          Object callable = pop();
          if (!(args instanceof Tuple t)) {
            throw error("REDUCE arguments are " + typeName(args) + ", not a tuple");
          }
          push(handler.reduce(callable, t, opOffset));
        }
        case 0x81 -> {
          Object args = pop();
          Object cls = pop();
          if (!(args instanceof Tuple t)) {
            throw error("NEWOBJ arguments are " + typeName(args) + ", not a tuple");
          }
          push(handler.newObject(cls, t, opOffset));
        }
        case 0x92 -> {
          Object kwargs = pop();
          Object args = pop();
          Object cls = pop();
          if (!(args instanceof Tuple t) || !(kwargs instanceof Map<?, ?> kw) || !kw.isEmpty()) {
            throw error("NEWOBJ_EX with keyword arguments is not supported");
          }
          push(handler.newObject(cls, t, opOffset));
        }
        case 'b' -> { // BUILD: drop the state (attributes such as _metadata), keep the object
          pop();
          peek();
        }
        case 'Q' -> push(handler.persistentLoad(pop(), opOffset));
        default -> throw error("unsupported pickle opcode " + opcodeName(op));
      }
    }
  }

  private PickleException error(String message) {
    return new PickleException(message + " at byte " + opOffset);
  }

  /** The position of {@code n} more bytes (and skips them), or a truncation error. */
  private int need(int n) {
    if (in.remaining() < n) {
      throw error("pickle is truncated: opcode " + opcodeName(in.get(opOffset) & 0xff) + " needs " + n
          + " bytes, " + in.remaining() + " left");
    }
    int p = in.position();
    in.position(p + n);
    return p;
  }

  private int u8() {
    return in.get(need(1)) & 0xff;
  }

  private int length(long n) {
    if (n < 0 || n > in.remaining()) {
      throw error("pickle is truncated: opcode " + opcodeName(in.get(opOffset) & 0xff) + " declares " + n
          + " bytes, " + in.remaining() + " left");
    }
    return (int) n;
  }

  private byte[] bytes(int n) {
    byte[] b = new byte[n];
    in.get(need(length(n)), b, 0, n);
    return b;
  }

  private String utf8(int n) {
    return new String(bytes(n), StandardCharsets.UTF_8);
  }

  private String latin1(int n) {
    return new String(bytes(n), StandardCharsets.ISO_8859_1);
  }

  /** A newline-terminated ASCII argument (GLOBAL, PUT, GET), at most 256 bytes. */
  private String line() {
    StringBuilder sb = new StringBuilder();
    while (true) {
      if (!in.hasRemaining()) {
        throw error("pickle is truncated inside " + opcodeName(in.get(opOffset) & 0xff));
      }
      byte b = in.get();
      if (b == '\n') {
        return sb.toString();
      }
      if (sb.length() >= 256 || b < 0x20 || b > 0x7e) {
        throw error("malformed text argument of " + opcodeName(in.get(opOffset) & 0xff));
      }
      sb.append((char) b);
    }
  }

  private long parseIndex(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw error("malformed memo index '" + s + "'");
    }
  }

  private static Object longFrom(byte[] littleEndian) {
    if (littleEndian.length == 0) {
      return 0L;
    }
    byte[] be = new byte[littleEndian.length];
    for (int i = 0; i < be.length; i++) {
      be[i] = littleEndian[be.length - 1 - i];
    }
    BigInteger v = new BigInteger(be);
    return v.bitLength() < 64 ? (Object) v.longValue() : v;
  }

  private Object memoGet(long index) {
    if (!memo.containsKey(index)) {
      throw error("memo index " + index + " was never stored");
    }
    return memo.get(index);
  }

  private void push(Object o) {
    stack.add(o);
  }

  private Object pop() {
    if (stack.isEmpty() || (!marks.isEmpty() && marks.get(marks.size() - 1) == stack.size() - 1)) {
      throw error("stack underflow");
    }
    return stack.remove(stack.size() - 1);
  }

  private Object peek() {
    if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK_OBJECT) {
      throw error("stack underflow");
    }
    return stack.get(stack.size() - 1);
  }

  private List<Object> popN(int n) {
    int base = marks.isEmpty() ? 0 : marks.get(marks.size() - 1) + 1;
    if (stack.size() - base < n) {
      throw error("stack underflow");
    }
    List<Object> sub = stack.subList(stack.size() - n, stack.size());
    List<Object> items = new ArrayList<>(sub);
    sub.clear();
    return items;
  }

  private List<Object> popMark() {
    if (marks.isEmpty()) {
      throw error("no MARK on the stack");
    }
    int m = marks.remove(marks.size() - 1);
    List<Object> sub = stack.subList(m + 1, stack.size());
    List<Object> items = new ArrayList<>(sub);
    stack.subList(m, stack.size()).clear();
    return items;
  }

  @SuppressWarnings("unchecked")
  private List<Object> list(Object o) {
    if (!(o instanceof ArrayList<?>)) {
      throw error("APPEND to " + typeName(o) + ", not a list");
    }
    return (List<Object>) o;
  }

  @SuppressWarnings("unchecked")
  private Map<Object, Object> dict(Object o) {
    if (!(o instanceof Map<?, ?>)) {
      throw error("SETITEM on " + typeName(o) + ", not a dict");
    }
    return (Map<Object, Object>) o;
  }

  private List<Object> hashables(List<Object> items) {
    for (Object o : items) {
      key(o);
    }
    return items;
  }

  /**
   * Dict keys and set members must be hashable as in Python: scalars and tuples of them (never cyclic). The
   * check walks the key as hashing it would, counting the values it visits against a budget for the whole
   * pickle: tuples that share members through the memo can make a key of a few bytes whose tree has 2^64
   * nodes, which hashing would never finish.
   */
  private Object key(Object k) {
    try {
      return hashable(k, 0, keyBudget);
    } catch (PickleException e) {
      throw error(e.getMessage());
    }
  }

  /**
   * {@code k} checked as a dict key of a handler ({@code OrderedDict} items), with a budget of its own;
   * {@code where} names the opcode in the error.
   */
  static Object hashable(Object k, String where) {
    try {
      return hashable(k, 0, new long[] {KEY_BUDGET_PER_CALL});
    } catch (PickleException e) {
      throw new PickleException(e.getMessage() + " (" + where + ")");
    }
  }

  private static final long KEY_BUDGET_PER_CALL = 1_000_000;

  private static Object hashable(Object k, int depth, long[] budget) {
    if (depth > MAX_KEY_DEPTH) {
      throw new PickleException("dict key nested more than " + MAX_KEY_DEPTH + " tuples deep");
    }
    if (--budget[0] < 0) {
      throw new PickleException("dict keys too large to hash (tuples sharing members through the memo?)");
    }
    if (k == null || k instanceof String || k instanceof Long || k instanceof BigInteger || k instanceof Double
        || k instanceof Boolean || k instanceof Global) {
      return k;
    }
    if (k instanceof Tuple t) {
      for (Object o : t.items()) {
        hashable(o, depth + 1, budget);
      }
      return k;
    }
    if (k instanceof byte[] b) {
      return new Tuple(List.of(Arrays.toString(b)));
    }
    throw new PickleException("unhashable dict key of type " + typeName(k));
  }

  /** A short, bounded rendering of a pickled value for messages (never recursive beyond a few levels). */
  static String describe(Object o) {
    StringBuilder sb = new StringBuilder();
    describe(o, 0, sb);
    return sb.length() > 200 ? sb.substring(0, 200) + "..." : sb.toString();
  }

  private static void describe(Object o, int depth, StringBuilder sb) {
    if (sb.length() > 200) {
      return;
    }
    if (o instanceof String str) {
      sb.append('\'').append(str.length() > 60 ? str.substring(0, 60) + "..." : str).append('\'');
    } else if (o == null || o instanceof Long || o instanceof BigInteger || o instanceof Double || o instanceof Boolean
        || o instanceof Global) {
      sb.append(o == null ? "None" : o instanceof Boolean b ? (b ? "True" : "False") : o.toString());
    } else if (o instanceof Tuple t && depth < 3) {
      sb.append('(');
      for (int i = 0; i < t.size(); i++) {
        if (i > 0) {
          sb.append(", ");
        }
        describe(t.get(i), depth + 1, sb);
      }
      sb.append(')');
    } else {
      sb.append('<').append(typeName(o)).append('>');
    }
  }

  static String typeName(Object o) {
    if (o == null) {
      return "None";
    }
    if (o instanceof String) {
      return "str";
    }
    if (o instanceof Long || o instanceof BigInteger) {
      return "int";
    }
    if (o instanceof Double) {
      return "float";
    }
    if (o instanceof Boolean) {
      return "bool";
    }
    if (o instanceof Tuple) {
      return "tuple";
    }
    if (o instanceof List<?>) {
      return "list";
    }
    if (o instanceof Map<?, ?>) {
      return "dict";
    }
    if (o instanceof byte[]) {
      return "bytes";
    }
    if (o instanceof Global g) {
      return g.toString();
    }
    return o.getClass().getSimpleName();
  }
}
