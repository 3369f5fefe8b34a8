package dev.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TarGzTest {

    private static Map<String, byte[]> read(Path file, String prefix) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        TarGz.read(file, n -> n.startsWith(prefix), out::put);
        return out;
    }

    @Test
    void readsTheWantedFilesWithLongNames(@TempDir Path dir) throws IOException {
        String deep = "package/" + "d/".repeat(60) + "leaf.txt";
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("package/a.txt", "alpha".getBytes(StandardCharsets.UTF_8));
        files.put("package/empty", new byte[0]);
        files.put("other/b.bin", new byte[1000]);
        files.put(deep, "deep".getBytes(StandardCharsets.UTF_8));
        byte[] block = new byte[512];
        Arrays.fill(block, (byte) 7);
        files.put("package/block", block);
        Path tgz = Files.write(dir.resolve("p.tgz"), Tarballs.tgz(files));

        Map<String, byte[]> got = read(tgz, "package/");
        assertEquals(List.of("package/a.txt", "package/empty", deep, "package/block"), List.copyOf(got.keySet()),
                "archive order; other/ skipped; the long name from its pax header");
        assertEquals("alpha", new String(got.get("package/a.txt"), StandardCharsets.UTF_8));
        assertEquals(0, got.get("package/empty").length);
        assertEquals("deep", new String(got.get(deep), StandardCharsets.UTF_8));
        assertArrayEquals(block, got.get("package/block"));
    }

    @Test
    void damagedArchivesAreErrorsNamingTheFile(@TempDir Path dir) throws IOException {
        byte[] good = Tarballs.tgz(Map.of("package/a.txt", new byte[5000]));

        Path cut = Files.write(dir.resolve("cut.tgz"), Arrays.copyOf(good, good.length / 2));
        String m = assertThrows(DiffusionException.class, () -> read(cut, "")).getMessage();
        assertTrue(m.startsWith(cut + " is not a readable .tgz archive: truncated"), m);

        Path notGzip = Files.writeString(dir.resolve("plain.tgz"), "a text file");
        m = assertThrows(DiffusionException.class, () -> read(notGzip, "")).getMessage();
        assertTrue(m.startsWith(notGzip + " is not a readable .tgz archive: its gzip stream is corrupt"), m);

        // A tar header with one byte changed fails its checksum.
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        try (var in = new GZIPInputStream(new ByteArrayInputStream(good))) {
            in.transferTo(raw);
        }
        byte[] tar = raw.toByteArray();
        tar[10] ^= 1;
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        try (var out = new GZIPOutputStream(again)) {
            out.write(tar);
        }
        Path flipped = Files.write(dir.resolve("flipped.tgz"), again.toByteArray());
        m = assertThrows(DiffusionException.class, () -> read(flipped, "")).getMessage();
        assertEquals(flipped + " is not a readable .tgz archive: the tar header at byte 0 fails its checksum; delete it and fetch it again",
                m);
    }
}
