// Package demo is the offline demo task: restore the hidden letters of a
// word ("k_rb_l" → "korbel") from a lexicon of generated pseudo-words.
//
// Everything is generated from a seed: the lexicon, the items of each split
// and the pretraining corpus of the embedded base model. The lexicon lives
// only in the model's pretraining corpus (its "world knowledge"); the only
// labelled data a harness can read is the train split, whose words never
// occur in val or test. So no harness can answer in code alone — it has to
// ask the model — but a harness can help a lot: pick the prompt variant the
// model knows best, show retrieved few-shot examples, sample several answers
// and vote, and reject answers that do not fit the pattern (which code can
// check without knowing the word). Learning from reward (RL on a LoRA
// adapter) sharpens the recall of the words it is rewarded on, but moves
// held-out words little: on this task the harness lever does the work,
// while on the cipher task the weights lever does. See task.md and
// docs/demo.md for the design and measured figures.
package demo
