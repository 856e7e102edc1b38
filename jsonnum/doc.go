// Package jsonnum decodes JSON numbers into the Go types sia's values use.
// encoding/json alone turns every number into float64, which loses
// integers above 2^53 and makes a knob value of 3 a float; decoding with
// UseNumber keeps the literal, and this package is the one place that
// turns it into a typed value: float64 for task data (Item fields are
// documented as float64), int64-or-float64 for harness values (a Starlark
// 3 stays an int, so range(n) works).
package jsonnum
