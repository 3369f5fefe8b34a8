package dev.diffusion4j.viz;

import dev.diffusion4j.DiffusionException;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * Images laid out in rows and columns on one canvas, each with an optional caption and the whole
 * with an optional title: side-by-side sampler comparisons, or a grid of generated samples.
 * Cells are as large as the largest image; smaller images are centred in theirs.
 *
 * <pre>{@code
 * BufferedImage cmp = ImageGrid.builder().title("20 steps").add(ddpm, "DDPM").add(ddim, "DDIM").columns(2).render();
 * }</pre>
 */
public final class ImageGrid {
    private ImageGrid() {
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The images, captions and layout options of a grid. */
    public static final class Builder {
        private final List<BufferedImage> images = new ArrayList<>();
        private final List<String> captions = new ArrayList<>();
        private int columns;
        private int padding = 12;
        private String title;
        private Color background = Color.WHITE;

        private Builder() {
        }

        public Builder add(BufferedImage image) {
            return add(image, null);
        }

        /** An image with a caption below it (null for none). */
        public Builder add(BufferedImage image, String caption) {
            if (image == null) {
                throw new DiffusionException("cannot add a missing (null) image to an image grid");
            }
            images.add(image);
            captions.add(caption);
            return this;
        }

        /** Several images without captions, in order. */
        public Builder addAll(List<BufferedImage> more) {
            more.forEach(this::add);
            return this;
        }

        /** Images per row; default the smallest count giving a grid at least as tall as wide (⌈√n⌉). */
        public Builder columns(int columns) {
            if (columns < 1) {
                throw new DiffusionException("an image grid needs at least 1 column but got " + columns);
            }
            this.columns = columns;
            return this;
        }

        /** Pixels between images and around the edge; default 12. */
        public Builder padding(int padding) {
            if (padding < 0 || padding > 10_000) {
                throw new DiffusionException("image grid padding must be 0 to 10000 pixels but was " + padding);
            }
            this.padding = padding;
            return this;
        }

        public Builder title(String title) {
            this.title = title;
            return this;
        }

        /** The canvas colour behind and between the images; default white. */
        public Builder background(Color background) {
            this.background = background;
            return this;
        }

        public BufferedImage render() {
            if (images.isEmpty()) {
                throw new DiffusionException("an image grid needs at least one image");
            }
            int n = images.size();
            int cols = Math.min(n, columns > 0 ? columns : (int) Math.ceil(Math.sqrt(n)));
            int rows = (n + cols - 1) / cols;
            int cellW = 0;
            int cellH = 0;
            for (BufferedImage img : images) {
                cellW = Math.max(cellW, img.getWidth());
                cellH = Math.max(cellH, img.getHeight());
            }
            // Caption size follows the cell: 640-pixel plots get 16 px text, 28-pixel digits 11 px.
            float captionSize = (float) Math.max(11, Math.min(16, cellW / 24.0));
            Font captionFont = new Font(Font.SANS_SERIF, Font.PLAIN, 12).deriveFont(captionSize);
            Font titleFont = captionFont.deriveFont(Font.BOLD, captionSize * 1.3f);
            Graphics2D probe = Viz.graphics(Viz.image(1, 1));
            FontMetrics captionFm = probe.getFontMetrics(captionFont);
            FontMetrics titleFm = probe.getFontMetrics(titleFont);
            probe.dispose();
            boolean anyCaption = captions.stream().anyMatch(c -> c != null);
            int captionGap = Math.max(4, Math.round(captionSize * 0.4f));
            int captionH = anyCaption ? captionGap + captionFm.getAscent() + captionFm.getDescent() : 0;
            int titleH = title != null ? Math.max(padding, 8) + titleFm.getAscent() + titleFm.getDescent() : 0;
            long w = (long) cols * cellW + (long) (cols + 1) * padding;
            long h = titleH + (long) rows * (cellH + captionH) + (long) (rows + 1) * padding;
            if (w * h > 400_000_000L) {
                throw new DiffusionException("an image grid of " + w + "x" + h + " pixels is too large: use fewer or smaller images");
            }
            BufferedImage out = Viz.image((int) w, (int) h);
            Graphics2D g = Viz.graphics(out);
            try {
                g.setColor(background);
                g.fillRect(0, 0, (int) w, (int) h);
                if (title != null) {
                    g.setFont(titleFont);
                    g.setColor(Axes.TEXT);
                    String s = Viz.fit(titleFm, title, (int) w - 2 * Math.max(padding, 8));
                    g.drawString(s, (float) ((w - titleFm.stringWidth(s)) / 2.0), Math.max(padding, 8) + titleFm.getAscent());
                }
                g.setFont(captionFont);
                for (int i = 0; i < n; i++) {
                    BufferedImage img = images.get(i);
                    int cx = padding + (i % cols) * (cellW + padding);
                    int cy = titleH + padding + (i / cols) * (cellH + captionH + padding);
                    g.drawImage(img, cx + (cellW - img.getWidth()) / 2, cy + (cellH - img.getHeight()) / 2, null);
                    String caption = captions.get(i);
                    if (caption != null) {
                        g.setColor(Axes.TEXT);
                        String s = Viz.fit(captionFm, caption, cellW + padding);
                        g.drawString(s, (float) (cx + (cellW - captionFm.stringWidth(s)) / 2.0),
                                cy + cellH + captionGap + captionFm.getAscent());
                    }
                }
            } finally {
                g.dispose();
            }
            return out;
        }
    }
}
