package org.promptrecovery4j.core;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * RFC 4180 CSV: comma-separated, fields with commas, quotes or line breaks quoted with {@code "}, a quote
 * inside a quoted field doubled. Reading accepts CRLF and LF, a UTF-8 BOM, and a missing final newline;
 * a line break inside a quoted field is kept as it is in the file (CRLF stays CRLF), so a field may span
 * several physical lines; each record knows the physical line it starts on, for errors. Writing uses LF
 * line ends and quotes only where needed.
 */
public final class Csv {

  private Csv() {}

  /**
   * A table: the header row, the data rows (each as long as the header) and, for each data row, the physical line
   * of the file (1-based) it starts on.
   */
  public record Table(List<String> header, List<List<String>> rows, List<Long> lines) {

    /** The physical line (1-based) data row {@code r} starts on. */
    public long line(int r) {
      return lines.get(r);
    }

    /** The index of {@code column}, or an error naming the file's columns. */
    public int column(String column, Object source) {
      int i = header.indexOf(column);
      if (i < 0) {
        throw new IllegalArgumentException(source + ": no column '" + column + "' (columns: " + String.join(", ", header) + ")");
      }
      return i;
    }

    /** Row {@code r} as column → value. */
    public Map<String, String> row(int r) {
      Map<String, String> m = new LinkedHashMap<>();
      for (int c = 0; c < header.size(); c++) {
        m.put(header.get(c), rows.get(r).get(c));
      }
      return m;
    }
  }

  /** Reads a CSV file with a header row; rows of the wrong width are an error naming the line. */
  public static Table read(Path file) throws IOException {
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      List<Record> records;
      try {
        records = parseRecords(r, file.toString());
      } catch (java.nio.charset.CharacterCodingException e) {
        throw new IOException(file + ": not valid UTF-8 text (" + e + ")", e);
      }
      if (records.isEmpty()) {
        throw new IllegalArgumentException(file + ": empty CSV (no header row)");
      }
      List<String> header = records.get(0).fields();
      List<List<String>> rows = new ArrayList<>();
      List<Long> lines = new ArrayList<>();
      for (int i = 1; i < records.size(); i++) {
        List<String> row = records.get(i).fields();
        if (row.size() == 1 && row.get(0).isEmpty()) {
          continue; // blank line
        }
        if (row.size() != header.size()) {
          throw new IllegalArgumentException(file + ": line " + records.get(i).line() + ": record " + (i + 1) + " has "
              + row.size() + " fields, the header has " + header.size());
        }
        rows.add(row);
        lines.add(records.get(i).line());
      }
      return new Table(List.copyOf(header), rows, List.copyOf(lines));
    }
  }

  /** One record and the physical line (1-based) of the file it starts on. */
  public record Record(long line, List<String> fields) {}

  /** Parses all records (the header too). */
  public static List<List<String>> parse(Reader in, String source) throws IOException {
    List<List<String>> fields = new ArrayList<>();
    for (Record r : parseRecords(in, source)) {
      fields.add(r.fields());
    }
    return fields;
  }

  /** Parses all records (the header too), each with the physical line it starts on; a leading UTF-8 BOM is skipped. */
  public static List<Record> parseRecords(Reader in, String source) throws IOException {
    List<Record> records = new ArrayList<>();
    List<String> record = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    boolean afterQuote = false;
    boolean any = false;
    long line = 1;
    long start = 1; // the line the current record starts on
    int c = in.read();
    if (c == '\uFEFF') {
      c = in.read();
    }
    for (; c != -1; c = in.read()) {
      any = true;
      if (quoted) {
        if (c == '"') {
          quoted = false; // closes the field, unless the next character is a quote (an escaped quote)
          afterQuote = true;
        } else {
          if (c == '\n') {
            line++;
          }
          field.append((char) c);
        }
        continue;
      }
      switch (c) {
        case ',' -> {
          record.add(field.toString());
          field.setLength(0);
          afterQuote = false;
        }
        case '\r' -> { /* CR of CRLF: ignored, the LF ends the record */ }
        case '\n' -> {
          record.add(field.toString());
          field.setLength(0);
          records.add(new Record(start, record));
          record = new ArrayList<>();
          afterQuote = false;
          line++;
          start = line;
        }
        case '"' -> {
          if (afterQuote) { // "" inside a quoted field
            field.append('"');
            quoted = true;
            afterQuote = false;
          } else if (field.length() > 0) {
            throw new IllegalArgumentException(source + ": line " + line + ": a quote inside an unquoted field");
          } else {
            quoted = true;
          }
        }
        default -> {
          if (afterQuote) {
            throw new IllegalArgumentException(source + ": line " + line + ": text after a closing quote");
          }
          field.append((char) c);
        }
      }
    }
    if (quoted) {
      throw new IllegalArgumentException(source + ": line " + start + ": a quoted field is not closed at the end of the"
          + " file");
    }
    if (any && (field.length() > 0 || !record.isEmpty() || afterQuote)) {
      record.add(field.toString());
      records.add(new Record(start, record));
    }
    return records;
  }

  /** Writes a header and rows atomically. */
  public static void write(Path file, List<String> header, List<? extends List<String>> rows) throws IOException {
    AtomicFiles.write(file, out -> {
      Writer w = new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8);
      writeRecord(w, header);
      for (List<String> row : rows) {
        writeRecord(w, row);
      }
      w.flush();
    });
  }

  public static void writeRecord(Writer w, List<String> fields) throws IOException {
    for (int i = 0; i < fields.size(); i++) {
      if (i > 0) {
        w.write(',');
      }
      w.write(quote(fields.get(i)));
    }
    w.write('\n');
  }

  /** The field as CSV: quoted if it holds a comma, quote, CR or LF (or leading/trailing spaces). */
  public static String quote(String s) {
    if (s == null) {
      return "";
    }
    boolean needs = s.indexOf(',') >= 0 || s.indexOf('"') >= 0 || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0
        || (!s.isEmpty() && (s.charAt(0) == ' ' || s.charAt(s.length() - 1) == ' '));
    return needs ? '"' + s.replace("\"", "\"\"") + '"' : s;
  }
}
