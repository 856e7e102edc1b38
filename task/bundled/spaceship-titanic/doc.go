// Package spaceship is the bundled spaceship-titanic task (Kaggle's
// Spaceship Titanic as prepared by MLE-bench and bundled by SIA): predict
// whether each passenger was Transported. Its verifier is accuracy over all
// private rows; see task.md for how it differs from SIA's.
package spaceship
