// Package bundled lists the tasks shipped inside the sia binary: the three
// offline tasks generated from a seed (demo, where the harness lever does
// the work; cipher, where the weights lever does; cipher-split, which needs
// both), and SIA's four bundled tasks (gpqa, lawbench, longcot-chess,
// spaceship-titanic), each with its Go verifier and reference harness.
package bundled
