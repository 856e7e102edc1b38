// Package knight solves LongCoT's knight_path problems: the fewest knight
// moves, on an N×N board, that start on a given square and touch every
// target square in any order (an open path).
//
// Distances come from a breadth-first search per square of interest (the
// board edge makes closed-form knight distances wrong near the rim). The
// tour is then an open travelling-salesman path over those distances:
// Held-Karp dynamic programming gives the exact optimum up to ExactLimit
// targets; above that a seeded local search (nearest-neighbour starts,
// 2-opt and or-opt moves, restarts) gives an upper bound, and Solve says
// whether its answer is proven optimal.
package knight
