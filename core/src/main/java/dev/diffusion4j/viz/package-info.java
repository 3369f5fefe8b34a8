/**
 * Plots drawn with plain Java2D into {@link java.awt.image.BufferedImage}s, headless: 2-D point
 * clouds and vector fields ({@link dev.diffusion4j.viz.ScatterPlot}), training curves
 * ({@link dev.diffusion4j.viz.LineChart}) and image grids ({@link dev.diffusion4j.viz.ImageGrid},
 * {@link dev.diffusion4j.viz.ImageTiles}). Write the results with the PNG and GIF writers of
 * {@code dev.diffusion4j.io}. Only the tensor convenience overloads touch libtorch.
 */
package dev.diffusion4j.viz;
