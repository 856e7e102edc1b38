// Package gpqa is the bundled gpqa task (GPQA Diamond as SIA bundles it):
// graduate-level four-option multiple-choice questions. Its verifier
// extracts the chosen letter robustly and scores accuracy over all
// questions, also reporting SIA's correct/attempted figure.
package gpqa
