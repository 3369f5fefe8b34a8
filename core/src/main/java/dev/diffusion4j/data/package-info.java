/**
 * Training data: built-in 2-D toy distributions, numeric CSV tables, images (built-in Fashion-MNIST,
 * IDX files, .npy arrays, folders of PNG/JPEG), the {@link dev.diffusion4j.data.DataSource}
 * interface that trainers draw minibatches from, and per-dimension normalisation.
 */
package dev.diffusion4j.data;
