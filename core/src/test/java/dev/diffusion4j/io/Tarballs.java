package dev.diffusion4j.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/** Writes small .tgz archives for tests, as npm packs them: ustar headers, pax headers for names over 100 bytes. */
public final class Tarballs {
    private Tarballs() {
    }

    /** A gzip-compressed tar of {@code files} (path → bytes), in the map's order, ending in two zero blocks. */
    public static byte[] tgz(Map<String, byte[]> files) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                String name = f.getKey();
                if (name.getBytes(StandardCharsets.UTF_8).length > 100) {
                    // A pax record is "<length> path=<name>\n", its length counting its own digits.
                    int rest = (" path=" + name + "\n").getBytes(StandardCharsets.UTF_8).length;
                    int length = rest + 1;
                    while (length != rest + String.valueOf(length).length()) {
                        length = rest + String.valueOf(length).length();
                    }
                    byte[] pax = (length + " path=" + name + "\n").getBytes(StandardCharsets.UTF_8);
                    entry(gz, "PaxHeader/" + name.substring(name.length() - 50), 'x', pax);
                    name = name.substring(name.length() - 100);
                }
                entry(gz, name, '0', f.getValue());
            }
            gz.write(new byte[1024]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static void entry(GZIPOutputStream out, String name, char type, byte[] body) throws IOException {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 100, "0000644");
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, String.format("%011o", body.length));
        put(h, 136, "14000000000");
        h[156] = (byte) type;
        put(h, 257, "ustar");
        put(h, 263, "00");
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        put(h, 148, String.format("%06o", sum));
        out.write(h);
        out.write(body);
        out.write(new byte[(512 - body.length % 512) % 512]);
    }

    private static void put(byte[] header, int at, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, header, at, b.length);
    }
}
