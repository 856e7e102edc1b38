// Package builtin holds the offline, deterministic agents.
//
// Meta instantiates the task's reference harness unchanged.
//
// Feedback searches the incumbent harness's declared KNOBS by coordinate
// descent and picks the weights lever by a plateau rule. Each generation:
//
//  1. Moves are the incumbent's settings with one knob changed to one of its
//     other candidates, never a setting already tried. Knobs are taken in
//     declaration order, except that when at least 20 % of val answers
//     failed (invalid, missing or error), knobs whose names speak of answer
//     handling (extract, format, parse, retry, prompt, max_tokens) go first:
//     failures point at the answer pipeline before the model.
//  2. The weights lever is possible only when a trainer is available, the
//     mode allows it, and the rollouts carry token ids and logprobs (the
//     harness used the model). It is taken when the last generation was a
//     weight update that became the incumbent (keep going while it pays),
//     when the last two harness edits did not beat the incumbent (plateau),
//     when it has never been tried and the harness search has paid off once
//     but its last edit did not (so each lever gets an early try), or when
//     no untried move is left. --mode weights always takes it.
//  3. Otherwise the first move is taken; with nothing left, stop.
//
// The algorithm for a weight update is the rule table's recommendation
// (rl.Select) unless --algorithm forces one.
//
// "The incumbent" and "became the incumbent" are the loop's record
// (FeedbackInput.IncumbentGen, GenSummary.Accepted): with --accept LEVEL a
// candidate needs evidence, not only a higher val score. Candidates that
// lost a ranking on a slice of val (FeedbackInput.Ranked) count as tried.
// With FeedbackInput.Candidates > 1 a harness decision proposes the next
// untried moves too, as Alternatives, for the loop to rank.
//
// With LeverChoice "bandit" (bandit.go) the lever and the algorithm are
// chosen by discounted Thompson sampling over lever × algorithm on the
// run's measured returns (FeedbackInput.Returns: each generation's val gain
// over the incumbent it started from, when accepted, and its seconds and
// tokens). The rules above are its prior: the arm they would pull starts
// with a mean return of 0.02 per generation, every other arm with 0, and
// evidence fades by half per generation. Its arms are the harness (while
// moves are left) and, for the weights lever, the rule table's algorithm
// and every algorithm this run already trained with that can still train.
// Decision.Bandit records every arm's record, prior, posterior and draw,
// and the rationale says why the winner won. The draw is seeded by
// FeedbackInput.Seed (run seed + generation), so a run stays reproducible.
//
// Nothing here reads gold labels: the agent sees only val scores,
// statuses and gold-free details.
package builtin
