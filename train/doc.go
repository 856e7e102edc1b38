// Package train defines the weights lever's contract: a Trainer turns a
// generation's logged rollouts into a new LoRA adapter version. Backends:
// train/embedded (tinylm, in process), train/tinker (Tinker protocol over
// HTTP) and train/command (any external trainer command).
package train
