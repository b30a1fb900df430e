package org.promptrecovery4j.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint split over several files, as HuggingFace writes it: an index
 * ({@code model.safetensors.index.json} or {@code pytorch_model.bin.index.json}) whose
 * {@code weight_map} names the shard of each tensor. Shards must lie inside the index's folder.
 */
public final class ShardedCheckpoint implements WeightSource {

  /** Opens one shard file. */
  @FunctionalInterface
  public interface ShardOpener {
    WeightSource open(Path shard) throws IOException;
  }

  private final Path index;
  private final Map<String, WeightSource> tensorToShard;
  private final List<WeightSource> shards;

  private ShardedCheckpoint(Path index, Map<String, WeightSource> tensorToShard, List<WeightSource> shards) {
    this.index = index;
    this.tensorToShard = tensorToShard;
    this.shards = shards;
  }

  /** The largest index read (it is parsed into memory): real ones are tens of KB (one line a tensor). */
  public static final long MAX_INDEX_BYTES = 64L << 20;

  public static ShardedCheckpoint open(Path index, ShardOpener opener) throws IOException {
    JsonNode root;
    if (Files.size(index) > MAX_INDEX_BYTES) {
      throw new ModelFormatException(index + ": " + Files.size(index) + " bytes, more than the " + MAX_INDEX_BYTES
          + " a shard index can plausibly need (not an index?)");
    }
    try {
      root = new ObjectMapper().readTree(index.toFile());
    } catch (IOException e) {
      throw new ModelFormatException(index + ": not valid JSON: " + e.getMessage(), e);
    }
    JsonNode map = root == null ? null : root.get("weight_map");
    if (map == null || !map.isObject()) {
      throw new ModelFormatException(index + ": no \"weight_map\" object");
    }
    Path folder = index.toAbsolutePath().getParent().normalize();
    Map<String, WeightSource> byFile = new LinkedHashMap<>();
    Map<String, WeightSource> tensorToShard = new LinkedHashMap<>();
    List<WeightSource> opened = new ArrayList<>();
    try {
      for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String fileName = e.getValue().asText();
        WeightSource shard = byFile.get(fileName);
        if (shard == null) {
          Path shardPath = resolveInside(index, folder, e.getKey(), fileName);
          if (!Files.isRegularFile(shardPath)) {
            throw new ModelFormatException(index + ": shard '" + fileName + "' of tensor '" + e.getKey()
                + "' does not exist in " + folder);
          }
          shard = opener.open(shardPath);
          opened.add(shard);
          byFile.put(fileName, shard);
        }
        if (!shard.contains(e.getKey())) {
          throw new ModelFormatException(index + ": tensor '" + e.getKey() + "' is mapped to '" + fileName
              + "', which does not contain it");
        }
        tensorToShard.put(e.getKey(), shard);
      }
      // tensors a shard holds but the index does not name would be silently lost: refuse them
      for (WeightSource shard : opened) {
        for (String name : shard.names()) {
          if (tensorToShard.get(name) != shard) {
            throw new ModelFormatException(index + ": tensor '" + name + "' in shard " + shard.location().getFileName()
                + (tensorToShard.containsKey(name) ? " also appears in another shard" : " is not in the weight_map"));
          }
        }
      }
    } catch (IOException | RuntimeException ex) {
      for (WeightSource s : opened) {
        s.close();
      }
      throw ex;
    }
    return new ShardedCheckpoint(index, tensorToShard, opened);
  }

  private static Path resolveInside(Path index, Path folder, String tensor, String fileName) {
    Path p;
    try {
      p = folder.resolve(fileName).normalize();
    } catch (java.nio.file.InvalidPathException ex) {
      throw new ModelFormatException(index + ": tensor '" + tensor + "' names an invalid shard path '" + fileName + "'");
    }
    if (fileName.isEmpty() || Path.of(fileName).isAbsolute() || !folder.equals(p.getParent())) {
      throw new ModelFormatException(index + ": tensor '" + tensor + "' names shard '" + fileName
          + "' outside the model folder " + folder + " (refused)");
    }
    return p;
  }

  private WeightSource shardOf(String name) {
    WeightSource s = tensorToShard.get(name);
    if (s == null) {
      throw new ModelFormatException(index + ": no tensor named '" + name + "'");
    }
    return s;
  }

  @Override
  public Path location() {
    return index;
  }

  @Override
  public List<String> names() {
    return List.copyOf(tensorToShard.keySet());
  }

  @Override
  public boolean contains(String name) {
    return tensorToShard.containsKey(name);
  }

  @Override
  public TensorInfo info(String name) {
    return shardOf(name).info(name);
  }

  @Override
  public ByteBuffer bytes(String name) {
    return shardOf(name).bytes(name);
  }

  @Override
  public ByteBuffer bytes(String name, long from, long length) {
    return shardOf(name).bytes(name, from, length);
  }

  public List<WeightSource> shards() {
    return List.copyOf(shards);
  }

  @Override
  public void close() throws IOException {
    IOException first = null;
    for (WeightSource s : shards) {
      try {
        s.close();
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
