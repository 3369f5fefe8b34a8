package dev.diffusion4j.io;

import dev.diffusion4j.DiffusionException;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * Writes animated GIFs that loop forever, e.g. the denoising trajectory of a sample.
 *
 * <p>All frames share one palette: the animation's own colours when there are at most 255, else a
 * median-cut palette with each colour mapped to its nearest entry. After the first frame, pixels that did not change are written as
 * the transparent index over the kept previous frame, so long runs of unchanged background
 * compress to almost nothing — a scatter-plot animation shrinks several-fold.
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
                    Palette palette = Palette.of(frames);
                    byte[] previous = null;
                    for (int i = 0; i < frames.size(); i++) {
                        byte[] indices = palette.indices(frames.get(i));
                        BufferedImage frame = palette.image(first.getWidth(), first.getHeight(), delta(indices, previous));
                        previous = indices;
                        ImageWriteParam param = writer.getDefaultWriteParam();
                        IIOMetadata metadata = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(frame), param);
                        metadata.mergeTree(FORMAT, frameTree(i == frames.size() - 1 ? lastDelay : delay, i == 0, palette));
                        writer.writeToSequence(new IIOImage(frame, null, metadata), param);
                    }
                    writer.endWriteSequence();
                }
            });
        } finally {
            writer.dispose();
        }
    }

    /** The frame's indices with every pixel equal to the previous frame's set to the transparent index. */
    private static byte[] delta(byte[] indices, byte[] previous) {
        if (previous == null) {
            return indices;
        }
        byte[] out = indices.clone();
        for (int p = 0; p < out.length; p++) {
            if (out[p] == previous[p]) {
                out[p] = Palette.TRANSPARENT;
            }
        }
        return out;
    }

    private static IIOMetadataNode frameTree(int delayCs, boolean first, Palette palette) {
        IIOMetadataNode root = new IIOMetadataNode(FORMAT);
        root.appendChild(palette.colorTable());
        IIOMetadataNode control = new IIOMetadataNode("GraphicControlExtension");
        // Each frame is drawn over the previous one; its transparent pixels let that one show through.
        control.setAttribute("disposalMethod", "doNotDispose");
        control.setAttribute("userInputFlag", "FALSE");
        control.setAttribute("transparentColorFlag", "TRUE");
        control.setAttribute("delayTime", Integer.toString(delayCs));
        control.setAttribute("transparentColorIndex", Integer.toString(Palette.TRANSPARENT & 0xFF));
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

    /** One palette for the whole animation; index 255 is reserved for "unchanged". */
    private static final class Palette {
        static final byte TRANSPARENT = (byte) 255;
        private static final int COLOURS = 255;

        private final int[] rgb;
        private final Map<Integer, Byte> index = new HashMap<>();

        private Palette(int[] rgb) {
            this.rgb = rgb;
            for (int i = 0; i < rgb.length; i++) {
                index.put(rgb[i], (byte) i);
            }
        }

        /** Exact colours when there are at most 255 of them, otherwise a median-cut palette (Heckbert 1982). */
        static Palette of(List<BufferedImage> frames) {
            Map<Integer, Integer> counts = new HashMap<>();
            for (BufferedImage f : frames) {
                for (int c : pixels(f)) {
                    counts.merge(c, 1, Integer::sum);
                }
            }
            int[] colours = counts.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
            if (colours.length <= COLOURS) {
                return new Palette(colours);
            }
            long[] weights = new long[colours.length];
            for (int i = 0; i < colours.length; i++) {
                weights[i] = counts.get(colours[i]);
            }
            List<int[]> boxes = new ArrayList<>(List.of(colours));
            while (boxes.size() < COLOURS) {
                // split the box with the widest channel range (ties: the first), at its weighted median
                int widest = -1;
                int widestRange = 0;
                for (int b = 0; b < boxes.size(); b++) {
                    int range = widestChannelRange(boxes.get(b));
                    if (boxes.get(b).length > 1 && range > widestRange) {
                        widest = b;
                        widestRange = range;
                    }
                }
                if (widest < 0) {
                    break;
                }
                int[] box = boxes.remove(widest);
                int shift = widestChannelShift(box);
                Integer[] sorted = Arrays.stream(box).boxed().toArray(Integer[]::new);
                Arrays.sort(sorted, Comparator.comparingInt(c -> c >> shift & 0xFF));
                long total = Arrays.stream(sorted).mapToLong(counts::get).sum();
                long seen = 0;
                int cut = 1;
                while (cut < sorted.length - 1 && (seen += counts.get(sorted[cut - 1])) < total / 2) {
                    cut++;
                }
                boxes.add(Arrays.stream(sorted, 0, cut).mapToInt(Integer::intValue).toArray());
                boxes.add(Arrays.stream(sorted, cut, sorted.length).mapToInt(Integer::intValue).toArray());
            }
            int[] palette = new int[boxes.size()];
            for (int b = 0; b < palette.length; b++) {
                double r = 0;
                double g = 0;
                double bl = 0;
                double w = 0;
                for (int c : boxes.get(b)) {
                    double n = counts.get(c);
                    r += n * (c >> 16 & 0xFF);
                    g += n * (c >> 8 & 0xFF);
                    bl += n * (c & 0xFF);
                    w += n;
                }
                palette[b] = (int) Math.round(r / w) << 16 | (int) Math.round(g / w) << 8 | (int) Math.round(bl / w);
            }
            return new Palette(palette);
        }

        private static int widestChannelRange(int[] box) {
            int best = 0;
            for (int shift = 0; shift <= 16; shift += 8) {
                best = Math.max(best, channelRange(box, shift));
            }
            return best;
        }

        private static int widestChannelShift(int[] box) {
            int best = 16;
            for (int shift = 8; shift >= 0; shift -= 8) {
                if (channelRange(box, shift) > channelRange(box, best)) {
                    best = shift;
                }
            }
            return best;
        }

        private static int channelRange(int[] box, int shift) {
            int lo = 255;
            int hi = 0;
            for (int c : box) {
                int v = c >> shift & 0xFF;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            return hi - lo;
        }

        byte[] indices(BufferedImage frame) {
            int[] px = pixels(frame);
            byte[] out = new byte[px.length];
            for (int p = 0; p < px.length; p++) {
                out[p] = index.computeIfAbsent(px[p], this::nearest);
            }
            return out;
        }

        private byte nearest(int c) {
            int best = 0;
            long bestDistance = Long.MAX_VALUE;
            for (int i = 0; i < rgb.length; i++) {
                int dr = ((c >> 16) & 0xFF) - ((rgb[i] >> 16) & 0xFF);
                int dg = ((c >> 8) & 0xFF) - ((rgb[i] >> 8) & 0xFF);
                int db = (c & 0xFF) - (rgb[i] & 0xFF);
                long d = (long) dr * dr + (long) dg * dg + (long) db * db;
                if (d < bestDistance) {
                    bestDistance = d;
                    best = i;
                }
            }
            return (byte) best;
        }

        /** The palette as an explicit local colour table (the encoder would otherwise substitute its own). */
        IIOMetadataNode colorTable() {
            IIOMetadataNode table = new IIOMetadataNode("LocalColorTable");
            table.setAttribute("sizeOfLocalColorTable", "256");
            table.setAttribute("sortFlag", "FALSE");
            for (int i = 0; i < 256; i++) {
                int c = i < rgb.length ? rgb[i] : 0;
                IIOMetadataNode entry = new IIOMetadataNode("ColorTableEntry");
                entry.setAttribute("index", Integer.toString(i));
                entry.setAttribute("red", Integer.toString(c >> 16 & 0xFF));
                entry.setAttribute("green", Integer.toString(c >> 8 & 0xFF));
                entry.setAttribute("blue", Integer.toString(c & 0xFF));
                table.appendChild(entry);
            }
            return table;
        }

        BufferedImage image(int width, int height, byte[] indices) {
            byte[] r = new byte[256];
            byte[] g = new byte[256];
            byte[] b = new byte[256];
            for (int i = 0; i < rgb.length; i++) {
                r[i] = (byte) (rgb[i] >> 16);
                g[i] = (byte) (rgb[i] >> 8);
                b[i] = (byte) rgb[i];
            }
            IndexColorModel model = new IndexColorModel(8, 256, r, g, b, TRANSPARENT & 0xFF);
            BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_INDEXED, model);
            img.getRaster().setDataElements(0, 0, width, height, indices);
            return img;
        }

        private static int[] pixels(BufferedImage f) {
            int[] px = f.getRGB(0, 0, f.getWidth(), f.getHeight(), null, 0, f.getWidth());
            for (int p = 0; p < px.length; p++) {
                px[p] &= 0xFFFFFF;
            }
            return px;
        }
    }
}
