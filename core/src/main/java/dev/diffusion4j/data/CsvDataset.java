package dev.diffusion4j.data;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.AtomicFiles;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A table of numbers read from a CSV file: one data point per row, one dimension per column.
 * The first row is a header when one of its fields is not a number; the separator is a comma, or a
 * semicolon or tab when the first row uses one (and then every row must). Blank lines and lines
 * starting with {@code #} are skipped. Every value must be a finite decimal number; any problem is
 * reported with the file name and its 1-based line number.
 *
 * <p>As a {@link DataSource} it draws rows uniformly with replacement. The values live on the Java
 * heap, so the data set needs no native memory between calls; each call returns a new tensor in
 * the caller's {@code Scope}.
 */
public final class CsvDataset implements DataSource {

    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Pattern NON_FINITE = Pattern.compile("[+-]?(nan|inf|infinity)", Pattern.CASE_INSENSITIVE);

    private final Path file;
    private final List<String> columns;
    private final float[] values;
    private final int rows;
    /** Class labels 0 … K−1 per row when a column was taken as the label, else null. */
    private final long[] labels;
    private final List<String> classNames;

    private CsvDataset(Path file, List<String> columns, float[] values, int rows) {
        this(file, columns, values, rows, null, List.of());
    }

    private CsvDataset(Path file, List<String> columns, float[] values, int rows, long[] labels, List<String> classNames) {
        this.file = file;
        this.columns = List.copyOf(columns);
        this.values = values;
        this.rows = rows;
        this.labels = labels;
        this.classNames = List.copyOf(classNames);
    }

    /**
     * This table with column {@code column} (a header name, or a 0-based index) as the class label
     * of each row instead of a dimension. Its values must be integers; the distinct values, in
     * increasing order, become classes 0 … K−1, named by their value.
     */
    public CsvDataset withLabelColumn(String column) {
        if (labels != null) {
            throw new DiffusionException(name() + " already has a label column");
        }
        int c = columns.indexOf(column);
        if (c < 0 && column.matches("\\d+") && Integer.parseInt(column) < columns.size()) {
            c = Integer.parseInt(column);
        }
        if (c < 0) {
            throw new DiffusionException(name() + " has no column '" + column + "'; its columns are " + String.join(", ", columns)
                    + " (or indices 0 to " + (columns.size() - 1) + ")");
        }
        if (columns.size() < 2) {
            throw new DiffusionException(name() + " has a single column; with it as the label no data would be left");
        }
        int d = columns.size();
        java.util.TreeSet<Long> distinct = new java.util.TreeSet<>();
        for (int r = 0; r < rows; r++) {
            float v = values[r * d + c];
            if (v != Math.rint(v)) {
                throw new DiffusionException(name() + ": label column '" + columns.get(c) + "' holds " + v + " in data row " + (r + 1)
                        + "; class labels must be integers");
            }
            distinct.add((long) v);
        }
        if (distinct.size() < 2) {
            throw new DiffusionException(name() + ": label column '" + columns.get(c) + "' has a single value; a class-conditional model "
                    + "needs at least two classes");
        }
        List<Long> order = new ArrayList<>(distinct);
        long[] ys = new long[rows];
        float[] rest = new float[rows * (d - 1)];
        for (int r = 0; r < rows; r++) {
            ys[r] = order.indexOf((long) values[r * d + c]);
            for (int j = 0, k = 0; j < d; j++) {
                if (j != c) {
                    rest[r * (d - 1) + k++] = values[r * d + j];
                }
            }
        }
        List<String> kept = new ArrayList<>(columns);
        kept.remove(c);
        return new CsvDataset(file, kept, rest, rows, ys, order.stream().map(String::valueOf).toList());
    }

    @Override
    public int numClasses() {
        return classNames.size();
    }

    @Override
    public List<String> classNames() {
        return classNames;
    }

    @Override
    public Labeled sampleLabeled(Generator g, int batch) {
        if (labels == null) {
            return DataSource.super.sampleLabeled(g, batch);
        }
        long[] idx = rowIndices(g, batch);
        long[] ys = new long[batch];
        for (int i = 0; i < batch; i++) {
            ys[i] = labels[(int) idx[i]];
        }
        return new Labeled(rowsAt(idx), Tensor.of(ys, batch));
    }

    /** Reads and validates {@code file}; see the class comment for the accepted format. */
    public static CsvDataset read(Path file) {
        if (Files.isDirectory(file)) {
            throw new DiffusionException("cannot read " + file + ": it is a directory, not a CSV file");
        }
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parse(file, in);
        } catch (NoSuchFileException e) {
            throw new DiffusionException("cannot read " + file + ": the file does not exist");
        } catch (CharacterCodingException e) {
            throw new DiffusionException("cannot read " + file + ": it is not UTF-8 text; give a plain-text CSV file");
        } catch (IOException e) {
            throw new DiffusionException("cannot read " + file + ": " + AtomicFiles.reason(e));
        }
    }

    private static CsvDataset parse(Path file, BufferedReader in) throws IOException {
        char sep = 0;
        int cols = -1;
        List<String> names = null;
        float[] buf = new float[1024];
        long count = 0;
        int rows = 0;
        int lineNo = 0;
        String line;
        while ((line = in.readLine()) != null) {
            lineNo++;
            if (lineNo == 1 && line.startsWith("\uFEFF")) {
                line = line.substring(1);
            }
            String content = line.strip();
            if (content.isEmpty() || content.startsWith("#")) {
                continue;
            }
            if (sep == 0) {
                sep = detectSeparator(content);
                String[] first = split(content, sep);
                cols = first.length;
                if (isHeader(first)) {
                    names = new ArrayList<>();
                    for (int c = 0; c < cols; c++) {
                        names.add(first[c].isEmpty() ? "col" + c : first[c]);
                    }
                    continue;
                }
            }
            String[] fields = split(content, sep);
            if (fields.length != cols) {
                throw new DiffusionException(file + ": line " + lineNo + " has " + fields.length + " values, expected " + cols
                        + " (separator " + describe(sep) + "); every row needs the same number of columns");
            }
            if (count + cols > Integer.MAX_VALUE - 8) {
                throw new DiffusionException(file + ": more than " + (Integer.MAX_VALUE - 8) + " values; split the file");
            }
            if (count + cols > buf.length) {
                buf = Arrays.copyOf(buf, (int) Math.min(Integer.MAX_VALUE - 8, Math.max(count + cols, 2L * buf.length)));
            }
            for (int c = 0; c < cols; c++) {
                buf[(int) count++] = parseValue(file, lineNo, c, fields[c]);
            }
            rows++;
        }
        if (sep == 0) {
            throw new DiffusionException(file + " is empty: it has no data rows");
        }
        if (rows == 0) {
            throw new DiffusionException(file + " has a header but no data rows");
        }
        if (names == null) {
            names = new ArrayList<>();
            for (int c = 0; c < cols; c++) {
                names.add("col" + c);
            }
        }
        return new CsvDataset(file, names, Arrays.copyOf(buf, (int) count), rows);
    }

    /** The first row fixes the separator: comma if it has one, else semicolon, else tab. */
    private static char detectSeparator(String firstRow) {
        for (char c : new char[] {',', ';', '\t'}) {
            if (firstRow.indexOf(c) >= 0) {
                return c;
            }
        }
        return ',';
    }

    private static String describe(char sep) {
        return sep == '\t' ? "tab" : "'" + sep + "'";
    }

    private static String[] split(String row, char sep) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= row.length(); i++) {
            if (i == row.length() || row.charAt(i) == sep) {
                out.add(unquote(row.substring(start, i).strip()));
                start = i + 1;
            }
        }
        return out.toArray(new String[0]);
    }

    private static String unquote(String field) {
        if (field.length() >= 2 && field.startsWith("\"") && field.endsWith("\"")) {
            return field.substring(1, field.length() - 1).strip();
        }
        return field;
    }

    private static boolean isNumeric(String field) {
        return NUMBER.matcher(field).matches() || NON_FINITE.matcher(field).matches();
    }

    private static boolean isHeader(String[] fields) {
        for (String f : fields) {
            if (!isNumeric(f)) {
                return true;
            }
        }
        return false;
    }

    private static float parseValue(Path file, int lineNo, int col, String field) {
        String where = file + ": line " + lineNo + ", column " + (col + 1);
        if (field.isEmpty()) {
            throw new DiffusionException(where + " is empty; fill in every value");
        }
        if (NON_FINITE.matcher(field).matches()) {
            throw new DiffusionException(where + " is '" + field + "' (NaN or infinite); remove or fill in missing values");
        }
        if (!NUMBER.matcher(field).matches()) {
            throw new DiffusionException(where + ": '" + field + "' is not a number");
        }
        // Parsed straight to float: going through double could round twice.
        float v = Float.parseFloat(field);
        if (Float.isInfinite(v)) {
            throw new DiffusionException(where + ": " + field + " is too large for float32 (max ~3.4e38); rescale the column");
        }
        return v;
    }

    // ------------------------------------------------------------------ accessors

    /** The file this data set was read from. */
    public Path file() {
        return file;
    }

    /** The header's column names, or col0, col1, ... when the file has no header. */
    public List<String> columnNames() {
        return columns;
    }

    /** Number of data rows. */
    public int rows() {
        return rows;
    }

    /** Number of columns. */
    @Override
    public int dim() {
        return columns.size();
    }

    /** The file name (without directories). */
    @Override
    public String name() {
        return file.getFileName().toString();
    }

    /** All values as a new float32 tensor [rows, cols]. */
    public Tensor tensor() {
        return Tensor.of(values, rows, dim());
    }

    /** Rows drawn uniformly with replacement (indices from {@code randint}), as float32 [batch, cols]. */
    @Override
    public Tensor sample(Generator g, int batch) {
        return rowsAt(rowIndices(g, batch));
    }

    private long[] rowIndices(Generator g, int batch) {
        if (batch < 1) {
            throw new DiffusionException("batch size must be at least 1, got " + batch);
        }
        try (Scope s = Scope.open()) {
            return Tensor.randint(g, rows, new long[] {batch}).toLongArray();
        }
    }

    private Tensor rowsAt(long[] idx) {
        int d = dim();
        float[] out = new float[idx.length * d];
        for (int i = 0; i < idx.length; i++) {
            System.arraycopy(values, (int) idx[i] * d, out, i * d, d);
        }
        return Tensor.of(out, idx.length, d);
    }

    @Override
    public Optional<Tensor> all() {
        return Optional.of(tensor());
    }

    @Override
    public String toString() {
        return "CsvDataset[" + file + ", " + rows + " x " + dim() + "]";
    }

    // ------------------------------------------------------------------ writing

    /**
     * Writes {@code data} [rows, cols] as a comma-separated file, with {@code header} as the first
     * row (null for none). Values are written in the shortest form that identifies them, so a
     * float32 tensor reads back bit-exactly through {@link #read}. The file appears complete
     * or not at all: it is written to a temporary file in the same directory, forced to disk, then
     * renamed over {@code file}.
     */
    public static void write(Path file, Tensor data, String[] header) {
        long[] shape = data.shape();
        if (shape.length != 2) {
            throw new DiffusionException("CSV output needs a [rows, cols] tensor, got shape " + Arrays.toString(shape));
        }
        int rows = Math.toIntExact(shape[0]);
        int cols = Math.toIntExact(shape[1]);
        if (rows == 0 || cols == 0) {
            throw new DiffusionException("nothing to write to " + file + ": the tensor has shape " + Arrays.toString(shape));
        }
        checkHeader(header, cols);
        DType dtype = data.dtype();
        double[] v = data.toDoubleArray();
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) {
                throw new DiffusionException("cannot write " + file + ": row " + i / cols + ", column " + i % cols
                        + " is " + v[i] + "; CSV datasets hold finite numbers only");
            }
        }
        AtomicFiles.write(file, out -> {
            Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            if (header != null) {
                w.write(String.join(",", header));
                w.write('\n');
            }
            StringBuilder row = new StringBuilder();
            for (int r = 0; r < rows; r++) {
                row.setLength(0);
                for (int c = 0; c < cols; c++) {
                    if (c > 0) {
                        row.append(',');
                    }
                    row.append(format(v[r * cols + c], dtype));
                }
                row.append('\n');
                w.write(row.toString());
            }
            w.flush();
        });
    }

    /** Shortest text that parses back to the same value in the tensor's precision. */
    private static String format(double v, DType dtype) {
        if (dtype == DType.FLOAT64) {
            return Double.toString(v);
        }
        if (dtype.isFloatingPoint()) {
            return Float.toString((float) v);
        }
        return Long.toString((long) v);
    }

    private static void checkHeader(String[] header, int cols) {
        if (header == null) {
            return;
        }
        if (header.length != cols) {
            throw new DiffusionException("header has " + header.length + " names but the tensor has " + cols + " columns");
        }
        boolean anyName = false;
        for (String h : header) {
            if (h == null || h.isBlank() || !h.equals(h.strip()) || h.startsWith("#") || h.chars().anyMatch(ch -> ch == ',' || ch == ';'
                    || ch == '\t' || ch == '"' || ch == '\n' || ch == '\r')) {
                throw new DiffusionException("bad CSV column name '" + h + "': use non-empty names without separators, quotes, "
                        + "line breaks, surrounding blanks or a leading #");
            }
            anyName |= !isNumeric(h);
        }
        if (!anyName) {
            throw new DiffusionException("CSV header " + Arrays.toString(header) + " consists only of numbers and would be read "
                    + "back as data; give at least one column a non-numeric name");
        }
    }
}
