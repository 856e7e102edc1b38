// Package measure evaluates a harness on the train split only, for the
// agents' measuring tools: k-fold cross-validation over a seeded sample of
// train items (or all of them), a single seeded holdout, or the first n
// train items. For each fold the harness is set up on the train items
// outside the fold and solves the fold's items without their labels; the
// caller's Evaluator builds that view (ctx.train and the public files
// holding exactly the fold's complement), runs the harness and verifies
// the answers against train labels. Run pools the folds into a score with
// its standard error, per-item verdicts and the setup logs; Compare pairs
// two measurements on the same items.
//
// Nothing here sees val or test: the only data is the train examples the
// caller passes in.
package measure
