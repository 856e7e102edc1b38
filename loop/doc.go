// Package loop is the generation loop, one explicit state machine (loop.go).
// next() picks each step from the recorded events alone:
//
//	start                    run_started
//	meta                     the Meta-Agent writes gen 1's harness
//	for each generation g:
//	  announce               g's harness, already on disk, is recorded (harness_ready)
//	  train                  a weights gen only: the weights lever, a LoRA adapter
//	                         trained on train-split rollouts of the incumbent
//	  rollout                g's harness over its adapter, on val's selection slice
//	  verify                 score the rollouts; keep-best compares them with the
//	                         incumbent's, item by item, and keeps g on evidence
//	  decide                 the Feedback-Agent picks g+1's lever and writes g+1's
//	                         harness and decision.json (the harness lever acts
//	                         here; several proposals are ranked first), or stops
//	confirm                  after a stop or at --max-gen: the incumbent re-scored
//	                         on fresh samples and on val's confirmation slice
//	test                     the incumbent, once, on test
//	finish                   the summary; run_finished
//
// Every step writes its files first and then appends one event, so the
// events alone say which steps are complete. Run replays them and continues
// from the first step they do not record; with the same seed it reaches the
// same final state as an uninterrupted run.
//
// Val is split once, by the seed, into a selection slice and a
// confirmation slice (slices.go). Every val rollout, comparison, ranking
// and agent view during the search is the selection slice's. Keep-best
// compares a verified generation with the incumbent item by item (the same
// items with the same sample seeds) and keeps it when Config.Accept's rule
// says so (selection.go, package stats); the verified event records the
// comparison. When the Feedback-Agent proposes several harnesses, they are
// ranked by successive halving on slices of the selection slice and only
// the winner becomes the next generation (candidates.go). At the end the
// incumbent is re-scored on fresh samples and on the confirmation slice
// (confirm.go), then on test. returns.go measures each lever's return.
package loop
