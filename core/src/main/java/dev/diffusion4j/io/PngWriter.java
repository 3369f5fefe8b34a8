package dev.diffusion4j.io;

import dev.diffusion4j.DiffusionException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.w3c.dom.Node;

/**
 * Writes PNG images with text metadata (sampler, seed, steps, ...) that image viewers show and
 * {@link #readText} recovers. Latin-1 values go in standard tEXt chunks, others in UTF-8 iTXt chunks.
 */
public final class PngWriter {
    private static final String FORMAT = "javax_imageio_png_1.0";

    private PngWriter() {
    }

    /** Writes {@code image} to {@code file} atomically, with one text chunk per metadata entry. */
    public static void write(Path file, BufferedImage image, Map<String, String> textMetadata) {
        IIOMetadataNode text = new IIOMetadataNode("tEXt");
        IIOMetadataNode itxt = new IIOMetadataNode("iTXt");
        for (Map.Entry<String, String> e : (textMetadata == null ? Map.<String, String>of() : textMetadata).entrySet()) {
            checkKeyword(file, e.getKey());
            String value = e.getValue();
            if (value == null || value.indexOf('\0') >= 0) {
                throw new DiffusionException("cannot write " + file + ": metadata '" + e.getKey() + "' must be text without NUL characters");
            }
            if (isLatin1(value)) {
                IIOMetadataNode entry = new IIOMetadataNode("tEXtEntry");
                entry.setAttribute("keyword", e.getKey());
                entry.setAttribute("value", value);
                text.appendChild(entry);
            } else {
                IIOMetadataNode entry = new IIOMetadataNode("iTXtEntry");
                entry.setAttribute("keyword", e.getKey());
                entry.setAttribute("compressionFlag", "FALSE");
                entry.setAttribute("compressionMethod", "0");
                entry.setAttribute("languageTag", "");
                entry.setAttribute("translatedKeyword", "");
                entry.setAttribute("text", value);
                itxt.appendChild(entry);
            }
        }
        IIOMetadataNode root = new IIOMetadataNode(FORMAT);
        if (text.hasChildNodes()) {
            root.appendChild(text);
        }
        if (itxt.hasChildNodes()) {
            root.appendChild(itxt);
        }
        ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
        try {
            AtomicFiles.write(file, out -> {
                ImageWriteParam param = writer.getDefaultWriteParam();
                IIOMetadata metadata = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(image), param);
                metadata.mergeTree(FORMAT, root);
                try (ImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
                    writer.setOutput(ios);
                    writer.write(null, new IIOImage(image, null, metadata), param);
                }
            });
        } finally {
            writer.dispose();
        }
    }

    /** The text metadata of a PNG (tEXt, iTXt and zTXt chunks) in file order. */
    public static Map<String, String> readText(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DiffusionException(file + " does not exist: check the path");
        }
        ImageReader reader = ImageIO.getImageReadersByFormatName("png").next();
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            reader.setInput(in, true, false);
            Node root = reader.getImageMetadata(0).getAsTree(FORMAT);
            Map<String, String> out = new LinkedHashMap<>();
            for (Node chunk = root.getFirstChild(); chunk != null; chunk = chunk.getNextSibling()) {
                String valueAttribute = switch (chunk.getNodeName()) {
                    case "tEXt" -> "value";
                    case "iTXt", "zTXt" -> "text";
                    default -> null;
                };
                if (valueAttribute == null) {
                    continue;
                }
                for (Node entry = chunk.getFirstChild(); entry != null; entry = entry.getNextSibling()) {
                    IIOMetadataNode n = (IIOMetadataNode) entry;
                    out.put(n.getAttribute("keyword"), n.getAttribute(valueAttribute));
                }
            }
            return out;
        } catch (IOException e) {
            throw new DiffusionException(file + " is not a readable PNG image: " + AtomicFiles.reason(e), e);
        } finally {
            reader.dispose();
        }
    }

    /** PNG keywords: 1–79 printable Latin-1 characters, no leading, trailing or double spaces. */
    private static void checkKeyword(Path file, String keyword) {
        boolean ok = keyword != null && !keyword.isEmpty() && keyword.length() <= 79
                && !keyword.startsWith(" ") && !keyword.endsWith(" ") && !keyword.contains("  ");
        for (int i = 0; ok && i < keyword.length(); i++) {
            char c = keyword.charAt(i);
            ok = (c >= 32 && c <= 126) || (c >= 161 && c <= 255);
        }
        if (!ok) {
            throw new DiffusionException("cannot write " + file + ": '" + keyword + "' is not a valid PNG text keyword "
                    + "(1–79 printable Latin-1 characters without leading, trailing or double spaces)");
        }
    }

    private static boolean isLatin1(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 255) {
                return false;
            }
        }
        return true;
    }
}
