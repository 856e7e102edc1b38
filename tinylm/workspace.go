package tinylm

import (
	"errors"
	"sync"
)

// workspace.go: activation memory reused across steps. A training step
// needs about 110 MB of activations at the benchmark's size; allocating them
// afresh every step costs a zeroing pass and page faults, and the garbage
// collector then runs every step or two. Forward passes carve their
// activations from an arena instead, and backward passes their scratch;
// arenas come from a pool and go back to it when the pass (backward
// scratch, inference forwards) or the tape (Tape.Release) is done.

// arena hands out float32 slices carved from one slab. Slices are not
// zeroed: every caller writes what it takes before reading it.
type arena struct {
	slab []float32
	off  int
	need int // floats asked for since the last reset
}

// take returns n floats. When the slab is too small it allocates, and the
// next reset grows the slab to what the whole pass needed.
func (a *arena) take(n int) []float32 {
	a.need += n
	if a.off+n <= len(a.slab) {
		s := a.slab[a.off : a.off+n : a.off+n]
		a.off += n
		return s
	}
	return make([]float32, n)
}

// reset makes the whole slab available again, sized for the last pass.
func (a *arena) reset() {
	if a.need > len(a.slab) {
		a.slab = make([]float32, a.need)
	}
	a.off, a.need = 0, 0
}

// arenaPool keeps arenas of one use (tapes, backward scratch: their sizes
// differ, and an arena grows to the largest pass it served).
type arenaPool struct{ p sync.Pool }

func (p *arenaPool) get() *arena {
	if a, ok := p.p.Get().(*arena); ok {
		return a
	}
	return new(arena)
}

func (p *arenaPool) put(a *arena) {
	a.reset()
	p.p.Put(a)
}

// tapeArenas hold forward activations, scratchArenas backward scratch.
var tapeArenas, scratchArenas arenaPool

// errReleased is returned by Backward on a released tape.
var errReleased = errors.New("backward: the tape was released")

// Release gives the tape's activation memory back for reuse by later
// passes; call it once the last Backward on the tape is done. Logprobs,
// Values and Entropy stay valid; Backward on a released tape returns an
// error. Release is optional (without it the memory is garbage collected)
// and must not run concurrently with Backward on the same tape.
func (t *Tape) Release() {
	if t == nil || t.released {
		return
	}
	t.released = true
	for _, p := range t.parts {
		p.Release()
	}
	if t.arena != nil {
		tapeArenas.put(t.arena)
		t.arena = nil
	}
	t.layers, t.xL, t.hf, t.logp = nil, nil, nil, nil
	t.lnF = lnCache{}
}
