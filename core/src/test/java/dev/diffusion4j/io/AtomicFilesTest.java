package dev.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<String> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writesAndReplacesLeavingNoTemporaryFiles() throws IOException {
        Path file = dir.resolve("a.txt");
        AtomicFiles.writeString(file, "first ✓");
        assertEquals("first ✓", Files.readString(file));
        AtomicFiles.writeBytes(file, new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(file));
        AtomicFiles.write(file, out -> {
            out.write("streamed".getBytes(StandardCharsets.UTF_8));
            out.close(); // bodies may close the stream; the write must still complete
        });
        assertEquals("streamed", Files.readString(file));
        AtomicFiles.writeChannel(file, ch -> {
            ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
            while (b.hasRemaining()) {
                b.put((byte) (b.position() % 251));
            }
            AtomicFiles.writeFully(ch, b.flip());
        });
        byte[] back = Files.readAllBytes(file);
        assertEquals(1 << 20, back.length);
        assertEquals((byte) (12345 % 251), back[12345]);
        assertEquals(List.of("a.txt"), listing());
    }

    @Test
    void theTemporaryFileIsHiddenAndInTheSameDirectory() throws IOException {
        Path file = dir.resolve("model.bin");
        String[] seen = new String[1];
        AtomicFiles.write(file, out -> {
            List<String> during = listing();
            assertEquals(1, during.size());
            seen[0] = during.get(0);
        });
        assertTrue(seen[0].startsWith(".model.bin.") && seen[0].endsWith(".tmp"), seen[0]);
        assertEquals(List.of("model.bin"), listing());
    }

    @Test
    void createsMissingParentDirectories() throws IOException {
        Path file = dir.resolve("x/y/z.txt");
        AtomicFiles.writeString(file, "deep");
        assertEquals("deep", Files.readString(file));
    }

    @Test
    void aFailingWriteKeepsTheOldFileAndCleansUp() throws IOException {
        Path file = dir.resolve("state.json");
        AtomicFiles.writeString(file, "old");
        DiffusionException e = assertThrows(DiffusionException.class, () -> AtomicFiles.write(file, out -> {
            out.write(new byte[100_000]);
            throw new IOException("No space left on device");
        }));
        assertEquals("could not write " + file + ": No space left on device", e.getMessage());
        assertEquals("old", Files.readString(file));
        assertEquals(List.of("state.json"), listing());

        DiffusionException wrapped = assertThrows(DiffusionException.class,
                () -> AtomicFiles.writeChannel(file, ch -> {
                    throw new DiffusionException("tensor 'w' is released");
                }));
        assertEquals("could not write " + file + ": tensor 'w' is released", wrapped.getMessage());
        assertEquals(List.of("state.json"), listing());

        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(file, out -> {
            throw new IllegalStateException("a bug, not a user error");
        }));
        assertEquals(List.of("state.json"), listing());
    }

    @Test
    void anUnwritableLocationIsAUserError() throws IOException {
        Path blocker = dir.resolve("blocker");
        Files.writeString(blocker, "I am a file");
        Path file = blocker.resolve("out.txt");
        DiffusionException e = assertThrows(DiffusionException.class, () -> AtomicFiles.writeString(file, "x"));
        assertTrue(e.getMessage().startsWith("could not write " + file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(blocker.toString()), e.getMessage());

        DiffusionException d = assertThrows(DiffusionException.class, () -> AtomicFiles.writeString(dir, "x"));
        assertTrue(d.getMessage().contains("is a directory"), d.getMessage());
    }

    @Test
    void aReadOnlyDirectoryIsAUserError() throws IOException {
        Path ro = Files.createDirectory(dir.resolve("ro"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            Assumptions.assumeFalse(Files.isWritable(ro), "permissions do not bind this user (root)");
            Path file = ro.resolve("out.txt");
            DiffusionException e = assertThrows(DiffusionException.class, () -> AtomicFiles.writeString(file, "x"));
            assertTrue(e.getMessage().startsWith("could not write " + file + ": permission denied"), e.getMessage());
        } finally {
            Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void resultHasTheSamePermissionsAsAPlainWrite() throws IOException {
        Path plain = Files.writeString(dir.resolve("plain.txt"), "p");
        Path atomic = dir.resolve("atomic.txt");
        AtomicFiles.writeString(atomic, "a");
        Set<PosixFilePermission> expected = Files.getPosixFilePermissions(plain);
        assertEquals(expected, Files.getPosixFilePermissions(atomic));
        assertTrue(expected.contains(PosixFilePermission.OWNER_WRITE));
    }
}
