package org.promptrecovery4j.models.generation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.promptrecovery4j.core.TensorJson;

/** Reads the decoder fixtures made by tools/reference/decoders_fixtures.py. */
final class DecoderFixtures {

  static final ObjectMapper JSON = new ObjectMapper();

  record Greedy(int[] prompt, int[] generated, double minGap) {}

  private DecoderFixtures() {}

  static Path fixtures() {
    return Path.of(System.getProperty("pr4j.fixtures", "../fixtures"));
  }

  static Path dir(String name) {
    return fixtures().resolve(name);
  }

  static Map<String, Object> inputs(String name) throws IOException {
    return TensorJson.read(dir(name).resolve("inputs.json"));
  }

  static JsonNode expected(String name) throws IOException {
    return JSON.readTree(Files.readString(dir(name).resolve("expected.json")));
  }

  static INDArray tensor(JsonNode t) {
    JsonNode shapeNode = t.get("shape");
    long[] shape = new long[shapeNode.size()];
    long n = 1;
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shapeNode.get(i).asLong();
      n *= shape[i];
    }
    float[] v = new float[(int) n];
    int[] k = {0};
    flatten(t.get("data"), v, k);
    return Nd4j.create(v, shape, 'c');
  }

  private static void flatten(JsonNode n, float[] out, int[] k) {
    if (n.isArray()) {
      for (JsonNode c : n) {
        flatten(c, out, k);
      }
    } else {
      out[k[0]++] = (float) n.asDouble();
    }
  }

  static List<Greedy> greedy(JsonNode expected) {
    List<Greedy> out = new ArrayList<>();
    for (JsonNode c : expected.get("greedy")) {
      out.add(new Greedy(ints(c.get("prompt")), ints(c.get("generated")), c.get("min_gap").asDouble()));
    }
    return out;
  }

  static int[] ints(JsonNode a) {
    int[] r = new int[a.size()];
    for (int i = 0; i < r.length; i++) {
      r[i] = a.get(i).asInt();
    }
    return r;
  }
}
