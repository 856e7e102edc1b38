// Package lawbench is the bundled lawbench task (SIA's LawBench / CAIL2018
// criminal-charge prediction): given the facts of a Chinese criminal case,
// name the charge. Its verifier is top-1 exact label match over all test
// ids, with labels normalised only for CAIL's bracket style, plus
// per-class accuracy.
package lawbench
