// Package chess is sia's chess layer: positions in FEN, legal moves, SAN
// out and in, game status, perft, an alpha-beta engine, and a UCI client
// for an external engine such as stockfish.
//
// The rules come from github.com/corentings/chess/v2 (v2.4.0; earlier
// versions tag under-promotions with the check of the queen promotion and
// share a FEN buffer between goroutines): FEN reading and writing, legal
// move generation, playing a move, SAN writing, checkmate, stalemate and
// insufficient material. Position wraps a library position; it is a value
// that goroutines may share, and Play returns a new one.
//
// What is ours, and why the library's is not used:
//
//   - FEN checks (position.go). The library accepts a board without kings,
//     pawns on the first or last rank and a side not to move in check; it
//     castles with rights whose rook is gone and takes en passant where no
//     pawn stands; it needs all six fields. ParseFEN rejects the first,
//     drops the impossible rights and en-passant squares, and fills in
//     missing counters.
//   - Lenient SAN reading (san.go). Answers to the bundled tasks write
//     "0-0", "a8Q" or "a8=q", which the library's SAN reader rejects, and
//     it takes "Nbf3" for the knight on g1. ParseSAN compares against the
//     library's SAN of each legal move and falls back to a pattern with
//     the origin hints checked. ParseUCI matches legal moves too: the
//     library's UCI reader checks only the first square ("e2i1" reads as
//     e2a2).
//   - The search's board (board.go) and the engine (search.go, eval.go).
//     The library has no search or evaluation, and its positions are too
//     slow to search on: each is heap-allocated, Board.Piece scans twelve
//     bitboards, and its only hashes are MD5 over a marshalled position or
//     a Zobrist key over the FEN text. The same alpha-beta on the library's
//     positions is 3-5x slower (BenchmarkSearch; docs/benchmarks.md), so
//     the search runs on a compact mailbox board of its own. That board's
//     move generator is checked against the library's by perft and move by
//     move on random games (board_test.go).
//   - The UCI client (uci.go). The library's uci package takes no context:
//     Engine.Run blocks for good on an engine that exits or never answers,
//     and it starts a goroutine nothing owns. On stockfish both clients
//     give the same best move, score and line; this one stops on ctx and
//     reports a dead engine as an error (TestUCIEngineFailures).
//
// library_test.go pins each library behaviour above, so an upgrade that
// changes one shows which workaround may go.
//
// Squares are numbered a1=0 … h1=7 … h8=63, as in the library.
package chess
