package org.promptrecovery4j.models.sentence;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.promptrecovery4j.models.nn.Attention;
import org.promptrecovery4j.weights.ModelFormatException;

/**
 * sentence-transformers Pooling over [B, L, d] token states with a [B, L] mask: the modes {@code cls}
 * (first non-padding token), {@code max}, {@code mean}, {@code mean_sqrt_len_tokens}, {@code weightedmean}
 * (weights 1..L), {@code lasttoken} (last non-padding token); several modes are concatenated in order.
 * Reads both config styles: {@code "pooling_mode": "mean" | [...]} and the legacy
 * {@code pooling_mode_*_tokens} booleans.
 */
public record Pooling(List<String> modes) {

  public static final List<String> MODES = List.of("cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken");

  private static final Map<String, String> LEGACY = new LinkedHashMap<>();

  static {
    LEGACY.put("pooling_mode_cls_token", "cls");
    LEGACY.put("pooling_mode_max_tokens", "max");
    LEGACY.put("pooling_mode_mean_tokens", "mean");
    LEGACY.put("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len_tokens");
    LEGACY.put("pooling_mode_weightedmean_tokens", "weightedmean");
    LEGACY.put("pooling_mode_lasttoken", "lasttoken");
  }

  public Pooling {
    if (modes.isEmpty()) {
      throw new IllegalArgumentException("no pooling mode");
    }
    for (String m : modes) {
      if (!MODES.contains(m)) {
        throw new ModelFormatException("pooling mode '" + m + "' is not one of " + MODES);
      }
    }
    modes = List.copyOf(modes);
  }

  /** Reads {@code 1_Pooling/config.json}; a missing file means mean pooling (the sentence-transformers default). */
  public static Pooling fromConfig(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      return new Pooling(List.of("mean"));
    }
    JsonNode c = new ObjectMapper().readTree(file.toFile());
    List<String> modes = new ArrayList<>();
    JsonNode mode = c.get("pooling_mode");
    if (mode != null && mode.isTextual()) {
      modes.add(mode.asText());
    } else if (mode != null && mode.isArray()) {
      mode.forEach(m -> modes.add(m.asText()));
    } else {
      LEGACY.forEach((key, m) -> {
        if (c.path(key).asBoolean(false)) {
          modes.add(m);
        }
      });
      if (modes.isEmpty()) {
        modes.add("mean");
      }
    }
    try {
      return new Pooling(modes);
    } catch (ModelFormatException e) {
      throw new ModelFormatException(file + ": " + e.getMessage());
    }
  }

  /** [B, L, d] tokens, [B, L] float mask → [B, modes·d]. */
  public SDVariable apply(SDVariable tokens, SDVariable mask) {
    SameDiff sd = tokens.getSameDiff();
    SDVariable m3 = sd.expandDims(mask, 2); // [B, L, 1]
    List<SDVariable> parts = new ArrayList<>();
    for (String mode : modes) {
      parts.add(switch (mode) {
        case "mean" -> tokens.mul(m3).sum(1).div(sd.math.max(m3.sum(1), sd.constant(1e-9f)));
        case "mean_sqrt_len_tokens" -> tokens.mul(m3).sum(1).div(sd.math.sqrt(sd.math.max(m3.sum(1), sd.constant(1e-9f))));
        case "max" -> tokens.add(m3.rsub(1.0).mul(Attention.MASKED)).max(1);
        case "weightedmean" -> {
          SDVariable w = m3.mul(sd.cumsum(sd.onesLike(m3), false, false, 1));
          yield tokens.mul(w).sum(1).div(sd.math.max(w.sum(1), sd.constant(1e-9f)));
        }
        case "cls" -> tokens.mul(firstOne(sd, m3, false)).sum(1);
        case "lasttoken" -> tokens.mul(firstOne(sd, m3, true)).sum(1);
        default -> throw new IllegalStateException(mode);
      });
    }
    return parts.size() == 1 ? parts.get(0) : sd.concat(1, parts.toArray(new SDVariable[0]));
  }

  /** 1 at the first (or, {@code fromEnd}, the last) non-padding position of each row, else 0: [B, L, 1]. */
  private static SDVariable firstOne(SameDiff sd, SDVariable m3, boolean fromEnd) {
    SDVariable running = sd.cumsum(m3, false, fromEnd, 1);
    return m3.mul(sd.eq(running, 1.0).castTo(DataType.FLOAT));
  }
}
