package dev.diffusion4j.io;

import dev.diffusion4j.DiffusionException;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads the regular files of a gzip-compressed tar archive ({@code .tgz}, as npm packs packages):
 * POSIX ustar headers of 512 bytes, each checked against its checksum, with the long names of pax
 * ({@code path=}) and GNU ({@code ././@LongLink}) extensions. A damaged or truncated archive is a
 * {@link DiffusionException} naming the file, so a reader never works from part of one.
 */
public final class TarGz {
    private static final int BLOCK = 512;

    private TarGz() {
    }

    /**
     * Calls {@code onFile} with the path and bytes of each regular file whose path {@code wanted}
     * accepts, in archive order; other entries are skipped unread.
     */
    public static void read(Path archive, Predicate<String> wanted, BiConsumer<String, byte[]> onFile) {
        try (InputStream in = new BufferedInputStream(new GZIPInputStream(Files.newInputStream(archive), 1 << 16), 1 << 16)) {
            String longName = null;
            long offset = 0;
            while (true) {
                byte[] header = in.readNBytes(BLOCK);
                if (header.length < BLOCK) {
                    throw new EOFException("it ends inside the header at byte " + offset);
                }
                if (isZero(header)) {
                    return;
                }
                checkSum(header, offset);
                long size = octal(header, 124, 12, offset);
                long padded = (size + BLOCK - 1) / BLOCK * BLOCK;
                char type = (char) header[156];
                String name = longName != null ? longName : name(header);
                longName = null;
                if (type == 'x' || type == 'L') {
                    byte[] body = body(in, size, padded, offset);
                    longName = type == 'L' ? text(body, 0, body.length) : paxPath(body, offset);
                } else if ((type == '0' || type == '\0') && wanted.test(name)) {
                    onFile.accept(name, body(in, size, padded, offset));
                } else {
                    in.skipNBytes(padded);
                }
                offset += BLOCK + padded;
            }
        } catch (EOFException e) {
            throw damaged(archive, "truncated" + (e.getMessage() != null ? " (" + e.getMessage() + ")" : ""));
        } catch (ZipException e) {
            throw damaged(archive, "its gzip stream is corrupt (" + e.getMessage() + ")");
        } catch (Damaged e) {
            throw damaged(archive, e.getMessage());
        } catch (IOException e) {
            throw new DiffusionException("cannot read " + archive + ": " + AtomicFiles.reason(e), e);
        }
    }

    private static DiffusionException damaged(Path archive, String why) {
        return new DiffusionException(archive + " is not a readable .tgz archive: " + why + "; delete it and fetch it again");
    }

    private static byte[] body(InputStream in, long size, long padded, long offset) throws IOException {
        if (size > Integer.MAX_VALUE - BLOCK) {
            throw new Damaged("the entry at byte " + offset + " holds " + size + " bytes, more than one array can");
        }
        byte[] body = in.readNBytes((int) size);
        if (body.length < size) {
            throw new EOFException("it ends inside the entry at byte " + offset);
        }
        in.skipNBytes(padded - size);
        return body;
    }

    private static boolean isZero(byte[] header) {
        for (byte b : header) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /** The header checksum: the sum of its bytes as unsigned, the checksum field itself counted as spaces. */
    private static void checkSum(byte[] header, long offset) throws IOException {
        long sum = 0;
        for (int i = 0; i < BLOCK; i++) {
            sum += i >= 148 && i < 156 ? ' ' : header[i] & 0xff;
        }
        if (sum != octal(header, 148, 8, offset)) {
            throw new Damaged("the tar header at byte " + offset + " fails its checksum");
        }
    }

    /** A NUL- or space-terminated octal number field. */
    private static long octal(byte[] header, int from, int length, long offset) throws IOException {
        long value = 0;
        int i = from;
        while (i < from + length && header[i] == ' ') {
            i++;
        }
        for (; i < from + length && header[i] != 0 && header[i] != ' '; i++) {
            int digit = header[i] - '0';
            if (digit < 0 || digit > 7) {
                throw new Damaged("the tar header at byte " + offset + " holds a number that is not octal");
            }
            value = value * 8 + digit;
        }
        return value;
    }

    /** The entry's path: ustar's prefix field, a slash and the name field (or the name field alone). */
    private static String name(byte[] header) {
        String name = text(header, 0, 100);
        boolean ustar = text(header, 257, 5).equals("ustar");
        String prefix = ustar ? text(header, 345, 155) : "";
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    /** The {@code path} record of a pax extended header ("<length> path=<value>\n" records); null when absent. */
    private static String paxPath(byte[] body, long offset) throws IOException {
        int at = 0;
        String path = null;
        while (at < body.length) {
            int space = at;
            while (space < body.length && body[space] != ' ') {
                space++;
            }
            int length;
            try {
                length = Integer.parseInt(new String(body, at, space - at, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw new Damaged("the pax header at byte " + offset + " is malformed");
            }
            if (length <= space - at || at + length > body.length) {
                throw new Damaged("the pax header at byte " + offset + " is malformed");
            }
            String record = new String(body, space + 1, at + length - space - 2, StandardCharsets.UTF_8);
            if (record.startsWith("path=")) {
                path = record.substring(5);
            }
            at += length;
        }
        return path;
    }

    /** A fault in the tar layer of an archive whose gzip layer reads well. */
    private static final class Damaged extends IOException {
        Damaged(String message) {
            super(message);
        }
    }

    private static String text(byte[] bytes, int from, int length) {
        int end = from;
        while (end < from + length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, from, end - from, StandardCharsets.UTF_8);
    }
}
