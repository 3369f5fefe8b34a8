package dev.diffusion4j.viz;

import java.awt.image.BufferedImage;

/** A rendered plot together with the data-to-pixel mapping it was drawn with. */
public record Figure(BufferedImage image, PlotArea area) {
}
