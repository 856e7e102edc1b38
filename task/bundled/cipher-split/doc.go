// Package ciphersplit is the offline task where both levers are needed:
// write a word in a secret script, when the labelled train words show the
// script of only some letters.
//
// Everything is generated from a seed: the script (a permutation of a–z),
// the words of each split, and the embedded base model's pretraining
// corpus. Train words never hold four of the consonants (the unseen
// letters); most val and test words hold at least one. So code can learn
// the script of every other letter from train, but only the model knows
// the unseen ones — and the corpus it learned from was written by careless
// scribes, whose habit (reading a word's last consonant as the next one of
// its group: an unseen letter as the next unseen one, a shared one as the
// next shared one) the model repeats in most answers. A
// harness that writes the known letters in code and asks the model only for
// the rest is capped by that habit; reward on train words removes it, and
// the unseen letters follow. See task.md and docs/cipher-split.md.
package ciphersplit
