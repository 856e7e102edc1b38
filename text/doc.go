// Package text is the string toolkit behind the Starlark `text` module and
// the tokenizers of package ml's TF-IDF: word and character tokens (CJK
// characters are words of their own), n-grams, normalisation and edit
// distance. Pure functions of their input.
package text
