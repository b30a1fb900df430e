package org.promptrecovery4j.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChartsTest {

  @Test
  void countsPutEdgesAndOutliersInTheirBins() {
    double[] v = {-1, 0, 0.24, 0.25, 0.5, 0.99, 1.0, 2, Double.NaN};
    // bins [0,.25) [.25,.5) [.5,.75) [.75,1]; -1 → first, 2 → last, NaN left out
    assertThat(Charts.counts(v, 4, 0, 1)).containsExactly(3, 1, 1, 3);
    assertThatThrownBy(() -> Charts.counts(v, 0, 0, 1)).hasMessageContaining("1..10000 bins");
    assertThatThrownBy(() -> Charts.counts(v, 4, 1, 1)).hasMessageContaining("min < max");
  }

  @Test
  void writesPngsOfTheAskedSize(@TempDir Path dir) throws Exception {
    Path line = dir.resolve("line.png");
    Charts.line(line, Charts.Frame.of("accuracy", "noise", "fraction").withYRange(0, 1).withSize(640, 400),
        List.of(new Charts.Line("a", new double[] {0, 1, 2}, new double[] {1, 0.5, 0.2}),
            new Charts.Line("b", new double[] {0, 1, 2}, new double[] {0.9, 0.8, 0.7})));
    BufferedImage img = ImageIO.read(line.toFile());
    assertThat(img.getWidth()).isEqualTo(640);
    assertThat(img.getHeight()).isEqualTo(400);

    byte[] h = Charts.histogramPng(Charts.Frame.of("scores", "SCS", "rows"),
        List.of(new Charts.Sample("x", new double[] {0.1, 0.2, 0.2, 0.9}), new Charts.Sample("y", new double[] {0.5})),
        10, Double.NaN, Double.NaN);
    assertThat(ImageIO.read(new ByteArrayInputStream(h)).getWidth()).isEqualTo(900);
    assertThat(Files.list(dir)).containsExactly(line); // no temporary file left
    assertThatThrownBy(() -> Charts.linePng(Charts.Frame.of("t", "x", "y"),
        List.of(new Charts.Line("a", new double[] {0, 1}, new double[] {1}))))
        .hasMessageContaining("series 'a': 2 x values but 1 y values");
  }
}
