package org.promptrecovery4j.evaluation;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.promptrecovery4j.core.AtomicFiles;

/**
 * PNG charts for reports (XChart, drawn headless): a line chart of named series and a histogram of one or more
 * samples on the same bins. Files are written atomically ({@link AtomicFiles}); the {@code *Png} methods return the
 * bytes instead.
 *
 * <pre>{@code
 * Charts.line(Path.of("target/scs.png"), Charts.Frame.of("SCS by epoch", "epoch", "SCS").withYRange(0, 1),
 *     List.of(new Charts.Line("train", epochs, train), new Charts.Line("validation", epochs, val)));
 * Charts.histogram(Path.of("target/rows.png"), Charts.Frame.of("Row SCS", "SCS", "rows"),
 *     List.of(new Charts.Sample("zero-shot", a), new Charts.Sample("regressor", b)), 20, 0, 1);
 * }</pre>
 *
 * <p>Drawing needs no display: {@code java.awt.headless} is set to true on first use unless it was set already.
 */
public final class Charts {

  /** A named line through points (x[i], y[i]); x and y have the same length. */
  public record Line(String name, double[] x, double[] y) {
    public Line {
      if (x.length != y.length) {
        throw new IllegalArgumentException("series '" + name + "': " + x.length + " x values but " + y.length + " y values");
      }
      x = x.clone();
      y = y.clone();
    }
  }

  /** A named sample of values for a histogram (NaN values are left out). */
  public record Sample(String name, double[] values) {
    public Sample {
      values = values.clone();
    }
  }

  /**
   * The frame of a chart: titles, the size in pixels and the y range ({@code NaN} = chosen from the data).
   */
  public record Frame(String title, String xTitle, String yTitle, int width, int height, double yMin, double yMax) {
    public Frame {
      if (width < 100 || height < 100 || width > 8000 || height > 8000) {
        throw new IllegalArgumentException("a chart must be 100..8000 pixels wide and high, is " + width + "x" + height);
      }
      if (!Double.isNaN(yMin) && !Double.isNaN(yMax) && !(yMin < yMax)) {
        throw new IllegalArgumentException("the y range must have min < max, is [" + yMin + ", " + yMax + "]");
      }
    }

    /** 900 × 540 pixels, y range from the data. */
    public static Frame of(String title, String xTitle, String yTitle) {
      return new Frame(title, xTitle, yTitle, 900, 540, Double.NaN, Double.NaN);
    }

    public Frame withYRange(double min, double max) {
      return new Frame(title, xTitle, yTitle, width, height, min, max);
    }

    public Frame withSize(int w, int h) {
      return new Frame(title, xTitle, yTitle, w, h, yMin, yMax);
    }
  }

  /** Colours that stay apart in print and for the common colour blindnesses (Okabe–Ito). */
  private static final Color[] PALETTE = {
    new Color(0, 114, 178), new Color(213, 94, 0), new Color(0, 158, 115), new Color(204, 121, 167),
    new Color(230, 159, 0), new Color(86, 180, 233), new Color(120, 120, 120), new Color(0, 0, 0)
  };

  private Charts() {}

  /** Writes a line chart (lines with point markers) as a PNG file. */
  public static void line(Path png, Frame frame, List<Line> lines) throws IOException {
    byte[] bytes = linePng(frame, lines);
    AtomicFiles.write(png, out -> out.write(bytes));
  }

  /** A line chart as PNG bytes. */
  public static byte[] linePng(Frame frame, List<Line> lines) throws IOException {
    if (lines.isEmpty()) {
      throw new IllegalArgumentException("chart '" + frame.title() + "': no series");
    }
    XYChart chart = chart(frame);
    chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    for (int i = 0; i < lines.size(); i++) {
      Line l = lines.get(i);
      if (l.x().length == 0) {
        throw new IllegalArgumentException("chart '" + frame.title() + "': series '" + l.name() + "' has no points");
      }
      XYSeries s = chart.addSeries(l.name(), l.x(), l.y());
      s.setMarker(SeriesMarkers.CIRCLE);
      s.setLineColor(PALETTE[i % PALETTE.length]);
      s.setMarkerColor(PALETTE[i % PALETTE.length]);
      s.setLineStyle(new BasicStroke(2f));
    }
    return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
  }

  /**
   * Writes a histogram of each sample on the same {@code bins} equal bins over [min, max] (values outside are
   * counted in the first or last bin; {@code NaN} bounds = the samples' smallest and largest value), drawn as
   * translucent filled outlines so that several samples can be compared.
   */
  public static void histogram(Path png, Frame frame, List<Sample> samples, int bins, double min, double max)
      throws IOException {
    byte[] bytes = histogramPng(frame, samples, bins, min, max);
    AtomicFiles.write(png, out -> out.write(bytes));
  }

  /** A histogram as PNG bytes (see {@link #histogram}). */
  public static byte[] histogramPng(Frame frame, List<Sample> samples, int bins, double min, double max)
      throws IOException {
    if (samples.isEmpty()) {
      throw new IllegalArgumentException("histogram '" + frame.title() + "': no samples");
    }
    double lo = min;
    double hi = max;
    if (Double.isNaN(lo) || Double.isNaN(hi)) {
      double dataMin = Double.POSITIVE_INFINITY;
      double dataMax = Double.NEGATIVE_INFINITY;
      for (Sample s : samples) {
        for (double v : s.values()) {
          if (!Double.isNaN(v)) {
            dataMin = Math.min(dataMin, v);
            dataMax = Math.max(dataMax, v);
          }
        }
      }
      if (dataMin > dataMax) {
        throw new IllegalArgumentException("histogram '" + frame.title() + "': no values");
      }
      lo = Double.isNaN(lo) ? dataMin : lo;
      hi = Double.isNaN(hi) ? (dataMax > lo ? dataMax : lo + 1) : hi;
    }
    XYChart chart = chart(frame);
    chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Area);
    chart.getStyler().setXAxisMin(lo);
    chart.getStyler().setXAxisMax(hi);
    if (Double.isNaN(frame.yMin())) {
      chart.getStyler().setYAxisMin(0.0);
    }
    for (int i = 0; i < samples.size(); i++) {
      Sample s = samples.get(i);
      long[] counts = counts(s.values(), bins, lo, hi);
      double[][] outline = outline(counts, lo, hi);
      XYSeries series = chart.addSeries(s.name() + " (" + total(counts) + ")", outline[0], outline[1]);
      Color c = PALETTE[i % PALETTE.length];
      series.setMarker(SeriesMarkers.NONE);
      series.setLineColor(c);
      series.setFillColor(new Color(c.getRed(), c.getGreen(), c.getBlue(), samples.size() > 1 ? 70 : 140));
      series.setLineStyle(new BasicStroke(1.5f));
    }
    return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
  }

  /**
   * The counts of {@code values} in {@code bins} equal bins over [min, max]: bin i holds min + i·w ≤ v &lt; min +
   * (i+1)·w, the last bin also holds max; values below min count in the first bin, above max in the last; NaN is
   * left out.
   */
  public static long[] counts(double[] values, int bins, double min, double max) {
    if (bins < 1 || bins > 10_000) {
      throw new IllegalArgumentException("a histogram needs 1..10000 bins, not " + bins);
    }
    if (!(min < max) || Double.isInfinite(min) || Double.isInfinite(max)) {
      throw new IllegalArgumentException("a histogram range must be finite with min < max, is [" + min + ", " + max + "]");
    }
    long[] counts = new long[bins];
    for (double v : values) {
      if (Double.isNaN(v)) {
        continue;
      }
      int b = (int) Math.floor((v - min) / (max - min) * bins);
      counts[Math.max(0, Math.min(bins - 1, b))]++;
    }
    return counts;
  }

  private static long total(long[] counts) {
    long t = 0;
    for (long c : counts) {
      t += c;
    }
    return t;
  }

  /** The closed outline of the bars: (e0, 0), (e0, c0), (e1, c0), (e1, c1), ..., (en, c(n-1)), (en, 0). */
  private static double[][] outline(long[] counts, double min, double max) {
    int n = counts.length;
    double[] x = new double[2 * n + 2];
    double[] y = new double[2 * n + 2];
    double w = (max - min) / n;
    x[0] = min;
    y[0] = 0;
    for (int i = 0; i < n; i++) {
      x[2 * i + 1] = min + i * w;
      y[2 * i + 1] = counts[i];
      x[2 * i + 2] = i == n - 1 ? max : min + (i + 1) * w;
      y[2 * i + 2] = counts[i];
    }
    x[2 * n + 1] = max;
    y[2 * n + 1] = 0;
    return new double[][] {x, y};
  }

  private static XYChart chart(Frame frame) {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
    XYChart chart = new XYChart(frame.width(), frame.height());
    chart.setTitle(frame.title());
    chart.setXAxisTitle(frame.xTitle());
    chart.setYAxisTitle(frame.yTitle());
    Styler st = chart.getStyler();
    st.setChartBackgroundColor(Color.WHITE);
    st.setLegendPosition(Styler.LegendPosition.OutsideS);
    st.setLegendLayout(Styler.LegendLayout.Vertical); // one series a row: long names never run off the image
    st.setAntiAlias(true);
    chart.getStyler().setPlotBackgroundColor(Color.WHITE);
    chart.getStyler().setPlotGridLinesColor(new Color(225, 225, 225));
    chart.getStyler().setAxisTickLabelsColor(Color.DARK_GRAY);
    chart.getStyler().setXAxisDecimalPattern("0.###"); // 0.08, not .08
    chart.getStyler().setYAxisDecimalPattern("0.###");
    if (!Double.isNaN(frame.yMin())) {
      chart.getStyler().setYAxisMin(frame.yMin());
    }
    if (!Double.isNaN(frame.yMax())) {
      chart.getStyler().setYAxisMax(frame.yMax());
    }
    return chart;
  }
}
