package dev.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.diffusion4j.DiffusionException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonTest {
    @TempDir
    Path dir;

    record Config(String name, int channels) {
    }

    @Test
    void writesPrettySortedJsonWithATrailingNewline() throws IOException {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("zeta", 1);
        value.put("alpha", Map.of("y", 2, "b", 3));
        Path file = dir.resolve("config.json");
        Json.write(file, value);
        String text = Files.readString(file);
        assertEquals("{\n  \"alpha\" : {\n    \"b\" : 3,\n    \"y\" : 2\n  },\n  \"zeta\" : 1\n}\n", text);

        ObjectNode tree = Json.mapper().createObjectNode();
        tree.put("z", true);
        tree.put("a", "x");
        Json.write(file, tree);
        assertEquals("{\n  \"a\" : \"x\",\n  \"z\" : true\n}\n", Files.readString(file));
        assertEquals(tree, Json.read(file));
    }

    @Test
    void unknownPropertiesAreIgnoredWhenBinding() throws IOException {
        Path file = dir.resolve("c.json");
        Files.writeString(file, "{\"name\":\"unet\",\"channels\":64,\"added_in_a_later_version\":[1]}");
        Config c = Json.mapper().treeToValue(Json.read(file), Config.class);
        assertEquals(new Config("unet", 64), c);
    }

    @Test
    void malformedFilesNameTheFileAndThePlace() throws IOException {
        Path file = dir.resolve("broken.json");
        Files.writeString(file, "{\n  \"a\": 1,\n  \"b\": }\n");
        DiffusionException e = assertThrows(DiffusionException.class, () -> Json.read(file));
        assertTrue(e.getMessage().startsWith(file + " is not valid JSON: "), e.getMessage());
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one-line message for the CLI");

        Files.writeString(file, "");
        assertEquals(file + " is not valid JSON: the file is empty",
                assertThrows(DiffusionException.class, () -> Json.read(file)).getMessage());

        Files.writeString(file, "{} {}");
        assertTrue(assertThrows(DiffusionException.class, () -> Json.read(file)).getMessage()
                .startsWith(file + " is not valid JSON: "));

        Path missing = dir.resolve("missing.json");
        assertEquals(missing + " does not exist: check the path",
                assertThrows(DiffusionException.class, () -> Json.read(missing)).getMessage());
    }

    @Test
    void readsWhatItWrites() {
        Path file = dir.resolve("r.json");
        Json.write(file, new Config("mlp", 3));
        JsonNode n = Json.read(file);
        assertEquals("mlp", n.get("name").asText());
        assertEquals(3, n.get("channels").asInt());
    }
}
