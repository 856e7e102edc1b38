// Package report reads run folders for people: a run's summary (the table
// `sia run` ends with and `sia show` prints, as text or JSON), its
// decisions, harness diffs between generations, training curves and
// rollouts (Run), a listing of a runs folder (List, Latest, Resolve), and
// two runs side by side (WriteCompare). It only reads; the loop writes.
// Subpackage plot draws the figures of `sia plot`; reporttest makes real
// run folders for tests.
package report
