package dev.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataSourcesTest {

    @Test
    void opensBuiltInToySetsByName() {
        for (String name : ToyDatasets.names()) {
            DataSource src = DataSources.open(name);
            assertEquals(name, src.name());
            assertEquals(2, src.dim());
            assertTrue(src.all().isEmpty());
            try (Scope s = Scope.open()) {
                Tensor a = src.sample(new Generator(1), 64);
                assertArrayEquals(new long[] {64, 2}, a.shape());
                // A toy source draws fresh points: the next batch from the same generator differs.
                Generator g = new Generator(2);
                assertFalse(src.sample(g, 64).equal(src.sample(g, 64)), name);
            }
        }
        assertSame(Toy2D.SPIRALS, DataSources.open("SPIRALS"));
    }

    @Test
    void opensCsvFilesByPath(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("Table.CSV");
        Files.writeString(p, "a,b,c\n1,2,3\n4,5,6\n");
        DataSource src = DataSources.open(p.toString());
        assertEquals("Table.CSV", src.name());
        assertEquals(3, src.dim());
        try (Scope s = Scope.open()) {
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, src.all().orElseThrow().toFloatArray());
            assertArrayEquals(new long[] {7, 3}, src.sample(new Generator(0), 7).shape());
        }
    }

    @Test
    void unknownNamesAndNonCsvFilesAreExplained(@TempDir Path dir) throws IOException {
        DiffusionException e = assertThrows(DiffusionException.class, () -> DataSources.open("x"));
        assertEquals("no dataset named 'x' and no file x; the built-in ones are swissroll, moons, 8gaussians, 25gaussians, checkerboard, "
                + "circles, pinwheel, spirals, fashion-mnist, fashion-mnist-test, emoji, emoji-google, emoji-twitter, emoji-test, "
                + "emoji-google-test, emoji-twitter-test", e.getMessage());
        String missing = dir.resolve("gone.csv").toString();
        assertEquals("no dataset named '" + missing + "' and no file " + missing + "; the built-in ones are swissroll, moons, 8gaussians, "
                + "25gaussians, checkerboard, circles, pinwheel, spirals, fashion-mnist, fashion-mnist-test, emoji, emoji-google, "
                + "emoji-twitter, emoji-test, emoji-google-test, emoji-twitter-test",
                assertThrows(DiffusionException.class, () -> DataSources.open(missing)).getMessage());
        Path txt = Files.writeString(dir.resolve("data.txt"), "1,2\n");
        assertTrue(assertThrows(DiffusionException.class, () -> DataSources.open(txt.toString())).getMessage()
                .contains("is not a .csv file"));
        assertThrows(DiffusionException.class, () -> DataSources.open(" "));
    }
}
