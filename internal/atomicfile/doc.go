// Package atomicfile writes files so that a reader (or a resumed run) sees
// either the old content or the new, never a torn write.
package atomicfile
