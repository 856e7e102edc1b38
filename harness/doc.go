// Package harness defines the contract between the loop and a harness: the
// code around the model that solves one item. Runtimes live in subpackages:
// harness/starlark (embedded, in process) and harness/python (SIA's
// target_agent.py contract, as a subprocess).
package harness
