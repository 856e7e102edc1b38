// Package loop is the generation loop, one explicit state machine (loop.go).
// next() picks each step from the recorded events alone:
//
//	start                    run_started
//	meta                     the Meta-Agent writes gen 1's harness
//	for each generation g:
//	  announce               g's harness, already on disk, is recorded (harness_ready)
//	  train                  a weights gen only: the weights lever, a LoRA adapter
//	                         trained on train-split rollouts of the incumbent
//	  rollout                g's harness over its adapter, on val
//	  verify                 score the rollouts; keep-best picks the incumbent
//	  decide                 the Feedback-Agent picks g+1's lever and writes g+1's
//	                         harness and decision.json (the harness lever acts
//	                         here), or stops
//	test                     after a stop or at --max-gen: the incumbent, once, on test
//	finish                   the summary; run_finished
//
// Every step writes its files first and then appends one event, so the
// events alone say which steps are complete. Run replays them and continues
// from the first step they do not record; with the same seed it reaches the
// same final state as an uninterrupted run.
package loop
