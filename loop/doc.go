// Package loop is the generation loop, one explicit state machine (loop.go):
//
//	meta → [rollout(val) → verify → keep-best → decide → lever]* → test → done
//
// Every step writes its files first and then appends one event, so the
// events alone say which steps are complete. Run replays them and continues
// from the first step they do not record; with the same seed it reaches the
// same final state as an uninterrupted run.
package loop
