// Package ml holds the small, deterministic machine-learning kit that
// Starlark harnesses call through the `ml` and `retrieval` modules: a
// TF-IDF vectorizer over word or character n-grams (tokens from package
// text), k-NN, multiclass logistic regression, a multiclass linear SVM,
// histogram gradient-boosted trees for tabular data, a BM25/TF-IDF search
// index, and evaluation helpers (splits, k-fold, accuracy).
//
// Everything is pure Go. Training takes a context and stops promptly when it
// ends; results depend only on the inputs and the seed. A fitted model is
// immutable, so Predict may be called from many goroutines at once.
package ml
