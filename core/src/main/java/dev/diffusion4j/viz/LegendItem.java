package dev.diffusion4j.viz;

import java.awt.Color;

/** One legend row: a swatch (a dot for point layers, a stroke for lines) and its label. */
record LegendItem(String label, Color color, boolean line) {
}
