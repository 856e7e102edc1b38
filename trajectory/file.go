package trajectory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"

	"github.com/sia-agent/sia/internal/atomicfile"
)

// Files. A trajectory file is named by its JSON-lines name (rollouts.jsonl)
// and stored zstd-compressed beside it (rollouts.jsonl.zst): JSON lines
// compress about tenfold, and a run of 800,000 rollouts per generation
// would otherwise grow by 170 MB a generation. Run folders written before
// hold the plain file, which every reader here still reads; where both are
// present the compressed one is the newer (a writer removes the plain one
// when it commits).
const CompressedExt = ".zst"

// zstdMagic starts every zstd frame.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// Writer streams trajectories into a file that appears only when Close
// commits it: a run killed while writing leaves the old file (or none) and
// a temp file that a resumed run sweeps, never a torn file.
type Writer struct {
	f    *atomicfile.File
	buf  *bufio.Writer
	zw   *zstd.Encoder
	enc  *json.Encoder
	path string
	n    int
}

// Create starts writing the trajectory file named path (its JSON-lines
// name); the data goes to path+CompressedExt.
func Create(path string) (*Writer, error) {
	f, err := atomicfile.Create(path + CompressedExt)
	if err != nil {
		return nil, err
	}
	// One encoder goroutine and a small window: the writer's memory stays a
	// few MiB whatever the file's size, and the rollout's workers keep the
	// cores.
	zw, err := zstd.NewWriter(f, zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(1<<20))
	if err != nil {
		f.Abort()
		return nil, err
	}
	buf := bufio.NewWriterSize(zw, 64<<10)
	return &Writer{f: f, buf: buf, zw: zw, enc: json.NewEncoder(buf), path: path}, nil
}

// Write appends one trajectory.
func (w *Writer) Write(t *Trajectory) error {
	if err := w.enc.Encode(t); err != nil {
		return fmt.Errorf("encode trajectory %s/%d: %w", t.Item, t.Sample, err)
	}
	w.n++
	return nil
}

// Count is the number of trajectories written so far.
func (w *Writer) Count() int { return w.n }

// Close finishes the stream, commits the file into place and removes a
// plain file of the same name left from before.
func (w *Writer) Close() error {
	if err := w.buf.Flush(); err != nil {
		w.Abort()
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	if err := w.zw.Close(); err != nil {
		w.Abort()
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	if err := w.f.Commit(); err != nil {
		return err
	}
	if err := os.Remove(w.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Abort drops what was written; the file keeps what it held. A no-op after
// Close, so it can be deferred.
func (w *Writer) Abort() {
	w.zw.Reset(nil)
	w.f.Abort()
}

// WriteFile writes ts as the trajectory file named path.
func WriteFile(path string, ts []Trajectory) error {
	w, err := Create(path)
	if err != nil {
		return err
	}
	defer w.Abort()
	for i := range ts {
		if err := w.Write(&ts[i]); err != nil {
			return err
		}
	}
	return w.Close()
}

// Reader reads trajectories one at a time from a plain or zstd-compressed
// JSON-lines stream.
type Reader struct {
	br     *bufio.Reader
	zr     *zstd.Decoder
	closer io.Closer
	line   int
}

// NewReader reads from r, compressed or not (told by the first bytes).
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(len(zstdMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if !bytes.Equal(head, zstdMagic) {
		return &Reader{br: br}, nil
	}
	zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
	if err != nil {
		return nil, err
	}
	return &Reader{br: bufio.NewReaderSize(zr, 64<<10), zr: zr}, nil
}

// Next reads the next trajectory into t (overwriting it); io.EOF after the
// last. A torn line or a truncated compressed stream is an error naming
// the line.
func (r *Reader) Next(t *Trajectory) error {
	for {
		b, err := r.br.ReadBytes('\n')
		if len(b) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			return fmt.Errorf("trajectory line %d: %w", r.line+1, err)
		}
		r.line++
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("trajectory line %d: %w", r.line, err)
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			if err != nil {
				return io.EOF
			}
			continue
		}
		*t = Trajectory{}
		if jerr := json.Unmarshal(b, t); jerr != nil {
			return fmt.Errorf("trajectory line %d: %w", r.line, jerr)
		}
		return nil
	}
}

// Close releases the reader (and the file Open opened).
func (r *Reader) Close() error {
	if r.zr != nil {
		r.zr.Close()
	}
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// Open opens the trajectory file named name in fsys: name+CompressedExt
// when it exists, else the plain name (a run folder from before).
func Open(fsys fs.FS, name string) (*Reader, error) {
	f, err := fsys.Open(name + CompressedExt)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = fsys.Open(name)
	}
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r.closer = f
	return r, nil
}

// OpenPath is Open for a path on disk.
func OpenPath(path string) (*Reader, error) {
	return Open(os.DirFS(filepath.Dir(path)), filepath.Base(path))
}

// Stat describes the trajectory file named name in fsys as Open would
// read it; fs.ErrNotExist when there is none.
func Stat(fsys fs.FS, name string) (fs.FileInfo, error) {
	info, err := fs.Stat(fsys, name+CompressedExt)
	if errors.Is(err, fs.ErrNotExist) {
		return fs.Stat(fsys, name)
	}
	return info, err
}

// StatPath is Stat for a path on disk.
func StatPath(path string) (fs.FileInfo, error) {
	return Stat(os.DirFS(filepath.Dir(path)), filepath.Base(path))
}

// Each calls fn with every trajectory of the file named name in fsys, in
// file order. t is reused between calls: fn must copy what it keeps.
func Each(fsys fs.FS, name string, fn func(t *Trajectory) error) error {
	r, err := Open(fsys, name)
	if err != nil {
		return err
	}
	defer r.Close()
	var t Trajectory
	for {
		err := r.Next(&t)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := fn(&t); err != nil {
			return err
		}
	}
}

// EachPath is Each for a path on disk.
func EachPath(path string, fn func(t *Trajectory) error) error {
	return Each(os.DirFS(filepath.Dir(path)), filepath.Base(path), fn)
}

// Load reads the whole trajectory file named name in fsys.
func Load(fsys fs.FS, name string) ([]Trajectory, error) {
	var out []Trajectory
	err := Each(fsys, name, func(t *Trajectory) error {
		out = append(out, *t)
		return nil
	})
	return out, err
}

// LoadPath is Load for a path on disk.
func LoadPath(path string) ([]Trajectory, error) {
	return Load(os.DirFS(filepath.Dir(path)), filepath.Base(path))
}
