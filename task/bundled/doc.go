// Package bundled lists the tasks shipped inside the sia binary: the offline
// demo, and SIA's four bundled tasks (gpqa, lawbench, longcot-chess,
// spaceship-titanic), each with its Go verifier and reference harness.
package bundled
