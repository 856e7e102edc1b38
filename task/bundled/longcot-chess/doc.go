// Package longcotchess is the bundled longcot-chess task (the chess domain
// of the LongCoT benchmark, hard subset, as SIA bundles it): knight_path
// questions (fewest knight moves touching 30 squares of a 100×100 board)
// and best_3_moves questions (the 3-ply principal variation of a FEN, in
// SAN). It also generates extra items with exact answers (see Generate).
package longcotchess
