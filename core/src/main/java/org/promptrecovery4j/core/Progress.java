package org.promptrecovery4j.core;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress line on standard error for long work (loading checkpoints, embedding many texts): done/total, the
 * elapsed time, the rate and (while unfinished) the time left at that rate.
 *
 * <p>Silent for work that ends within the first second; then redrawn at most a few times a second on a
 * terminal, or printed as a plain line every few seconds when standard error is a file or pipe.
 * Disable with {@code -Dpr4j.progress=false}.
 */
public final class Progress implements AutoCloseable {

  /** How the counts are shown. */
  public enum Unit {
    BYTES,
    ITEMS
  }

  private static final long QUIET_NANOS = 1_000_000_000L;

  private final String label;
  private final long total;
  private final Unit unit;
  private final PrintStream out;
  private final boolean terminal;
  private final boolean enabled;
  private final long start = System.nanoTime();
  private long done;
  private long lastPrint;
  private boolean printed;
  private long printedDone = -1;

  private Progress(String label, long total, Unit unit, PrintStream out) {
    this.label = label;
    this.total = total;
    this.unit = unit;
    this.out = out;
    this.terminal = System.console() != null;
    this.enabled = !"false".equals(System.getProperty("pr4j.progress"));
  }

  public static Progress start(String label, long total, Unit unit) {
    return new Progress(label, total, unit, System.err);
  }

  /** Adds {@code amount} units of finished work. */
  public synchronized void advance(long amount) {
    done += amount;
    long now = System.nanoTime();
    long interval = terminal ? 200_000_000L : 5_000_000_000L;
    if (enabled && now - start > QUIET_NANOS && now - lastPrint > interval) {
      lastPrint = now;
      print(now, false);
    }
  }

  public synchronized long done() {
    return done;
  }

  private void print(long now, boolean last) {
    if (last && !terminal && printedDone == done) {
      return; // the last plain line already says it
    }
    printedDone = done;
    double seconds = (now - start) / 1e9;
    String pct = total > 0 ? String.format(Locale.ROOT, "%3d%% ", (int) (100.0 * done / total)) : "";
    String line =
        String.format(
            Locale.ROOT, "%s %s%s/%s %.1fs%s", label, pct, format(done), total > 0 ? format(total) : "?", seconds,
            rate(seconds, last));
    if (terminal) {
      out.print("\r" + line + (last ? "\n" : ""));
    } else {
      out.println(line);
    }
    out.flush();
    printed = true;
  }

  /** {@code ", 12.3/s, ETA 1m05s"} (units per second; the time left at that rate), once there is a rate. */
  private String rate(double seconds, boolean last) {
    if (done <= 0 || seconds <= 0) {
      return "";
    }
    double perSecond = done / seconds;
    String r = unit == Unit.ITEMS ? String.format(Locale.ROOT, "%.1f/s", perSecond) : format((long) perSecond) + "/s";
    if (last || total <= 0 || done >= total) {
      return ", " + r;
    }
    long eta = Math.round((total - done) / perSecond);
    String t = eta >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", eta / 3600, eta % 3600 / 60)
        : eta >= 60 ? String.format(Locale.ROOT, "%dm%02ds", eta / 60, eta % 60) : eta + "s";
    return ", " + r + ", ETA " + t;
  }

  private String format(long n) {
    if (unit == Unit.ITEMS) {
      return Long.toString(n);
    }
    if (n >= 1L << 30) {
      return String.format(Locale.ROOT, "%.2f GB", n / (double) (1L << 30));
    }
    if (n >= 1L << 20) {
      return String.format(Locale.ROOT, "%.1f MB", n / (double) (1L << 20));
    }
    return String.format(Locale.ROOT, "%.1f kB", n / 1024.0);
  }

  @Override
  public synchronized void close() {
    if (enabled && printed) {
      print(System.nanoTime(), true);
    }
  }
}
