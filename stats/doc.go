// Package stats is the statistics of selection: pure functions over
// slices (no I/O, no goroutines, no global random source) that say whether
// a candidate beats an incumbent on the same items, and by how much.
//
// The loop compares two generations item by item on the same val items
// with the same sample seeds (common random numbers), so the evidence is a
// vector of paired per-item differences d_i = candidate_i − incumbent_i,
// each a mean over K samples of a reward in [0, 1]. Such vectors are short
// (tens of items), bounded, discrete (multiples of 1/K for binary rewards)
// and full of exact zeros (items both solve, or both miss). That decides
// the test:
//
//   - The acceptance test is the paired sign-flip permutation test of the
//     mean difference (Fisher's randomisation test), one-sided. Under the
//     null "the candidate is no different", each item's two scores are
//     exchangeable, so each d_i is as likely to have had the other sign; the
//     p-value is the share of the 2^n sign assignments whose sum is at least
//     the observed one. It assumes no distribution shape, is exact at any n
//     (no normal approximation, which a few dozen bounded, tied values do
//     not justify), and zeros cost it nothing. SignFlip computes it exactly:
//     by dynamic programming over the sum when the differences lie on a
//     lattice (always, for rewards averaged over K samples), by enumeration
//     when at most 20 are nonzero, and otherwise by Monte Carlo from a fixed
//     seed.
//   - The gain's interval is the paired t interval (mean ± t·SE): an
//     approximation, for reading; the decision is the permutation test's.
//   - PairedT is the paired t-test, kept for comparison and for readers who
//     expect it.
//
// Every test of significance here is checked against SciPy
// (testdata/reference.py writes testdata/reference.json).
package stats
