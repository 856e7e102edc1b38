// Package report reads a run folder into a Summary and renders it: the
// table `sia run` ends with and `sia show` prints, as text or JSON.
package report
