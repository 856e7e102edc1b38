// Package plot draws a run's figures for `sia plot` with gonum.org/v1/plot,
// as PNG and SVG files: the score per generation (val, the incumbent line,
// the held-out test score), the lever timeline, and the training curves of
// each weight update (loss, reward, KL, grad norm per step). It reads runs
// through report and writes only into the folder it is given.
package plot
