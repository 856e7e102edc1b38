// Package chess is a small, complete chess library: positions in FEN,
// legal move generation (castling, en passant, promotion), SAN out and in,
// perft, an alpha-beta engine, and a UCI client for an external engine
// such as stockfish.
//
// A Position is a value (a 64-square mailbox plus state, under 100 bytes):
// Play returns a new Position and never changes its receiver, so callers
// may share positions freely across goroutines.
//
// Squares are numbered a1=0 … h1=7 … h8=63.
package chess
