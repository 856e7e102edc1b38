// Package data gets the bundled tasks' data into SIA_DATA_DIR/<task>/
// {public,private}: Pull downloads it from the canonical public sources
// (atomically, with pinned sha256 where known, progress through a
// callback), and Import lays it out from a local copy such as the
// project's ../shared/data, building a faithful held-out split from what
// that copy has. Nothing here prints; callers render progress and notes.
package data
