package dev.diffusion4j.io;

import dev.diffusion4j.DiffusionException;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Writes animated GIFs that loop forever, e.g. the denoising trajectory of a sample. Colours are
 * reduced to a 256-entry palette per frame by the JDK's encoder.
 */
public final class GifWriter {
    private static final String FORMAT = "javax_imageio_gif_image_1.0";
    /** Browsers show delays under 2 centiseconds as 10, so shorter delays are raised to 2. */
    private static final int MIN_DELAY_CS = 2;
    private static final int MAX_DELAY_CS = 0xFFFF;

    private GifWriter() {
    }

    /** Writes {@code frames} to {@code file} atomically, each shown for {@code delayMs}. */
    public static void write(Path file, List<BufferedImage> frames, int delayMs) {
        write(file, frames, delayMs, delayMs);
    }

    /** Like {@link #write(Path, List, int)}, holding the last frame for {@code lastFrameDelayMs}. */
    public static void write(Path file, List<BufferedImage> frames, int delayMs, int lastFrameDelayMs) {
        if (frames.isEmpty()) {
            throw new DiffusionException("cannot write " + file + ": an animated GIF needs at least one frame");
        }
        BufferedImage first = frames.get(0);
        for (int i = 1; i < frames.size(); i++) {
            BufferedImage f = frames.get(i);
            if (f.getWidth() != first.getWidth() || f.getHeight() != first.getHeight()) {
                throw new DiffusionException("cannot write " + file + ": frame " + i + " is " + f.getWidth() + "x" + f.getHeight()
                        + " but frame 0 is " + first.getWidth() + "x" + first.getHeight() + "; all frames must have the same size");
            }
        }
        int delay = centiseconds(file, delayMs);
        int lastDelay = centiseconds(file, lastFrameDelayMs);
        ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
        try {
            AtomicFiles.write(file, out -> {
                try (ImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
                    writer.setOutput(ios);
                    writer.prepareWriteSequence(null);
                    for (int i = 0; i < frames.size(); i++) {
                        BufferedImage frame = frames.get(i);
                        ImageWriteParam param = writer.getDefaultWriteParam();
                        IIOMetadata metadata = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(frame), param);
                        metadata.mergeTree(FORMAT, frameTree(i == frames.size() - 1 ? lastDelay : delay, i == 0));
                        writer.writeToSequence(new IIOImage(frame, null, metadata), param);
                    }
                    writer.endWriteSequence();
                }
            });
        } finally {
            writer.dispose();
        }
    }

    private static IIOMetadataNode frameTree(int delayCs, boolean first) {
        IIOMetadataNode root = new IIOMetadataNode(FORMAT);
        IIOMetadataNode control = new IIOMetadataNode("GraphicControlExtension");
        control.setAttribute("disposalMethod", "none");
        control.setAttribute("userInputFlag", "FALSE");
        control.setAttribute("transparentColorFlag", "FALSE");
        control.setAttribute("delayTime", Integer.toString(delayCs));
        control.setAttribute("transparentColorIndex", "0");
        root.appendChild(control);
        if (first) {
            // NETSCAPE2.0 looping block: sub-block id 1, then the loop count (0 = forever), little-endian.
            IIOMetadataNode apps = new IIOMetadataNode("ApplicationExtensions");
            IIOMetadataNode loop = new IIOMetadataNode("ApplicationExtension");
            loop.setAttribute("applicationID", "NETSCAPE");
            loop.setAttribute("authenticationCode", "2.0");
            loop.setUserObject(new byte[] {1, 0, 0});
            apps.appendChild(loop);
            root.appendChild(apps);
        }
        return root;
    }

    private static int centiseconds(Path file, int ms) {
        if (ms < 0 || ms > MAX_DELAY_CS * 10) {
            throw new DiffusionException("cannot write " + file + ": frame delay " + ms + " ms is outside 0.." + MAX_DELAY_CS * 10 + " ms");
        }
        return Math.max(MIN_DELAY_CS, Math.round(ms / 10.0f));
    }
}
