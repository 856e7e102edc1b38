package tinylm

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"strconv"

	"github.com/nlpodyssey/safetensors"
)

// pretrain_resume.go: Pretrain's resumable state. A pretraining killed
// part-way (Ctrl-C, a closed laptop) continues from its last saved step
// instead of from scratch, and ends on the same weights, bit for bit, as
// an uninterrupted run: the file holds the weights, AdamW's moments and
// step count, the window sampler's PCG state and the step reached.

// Metadata keys of a pretraining state file.
const (
	metaResumeKey  = "tinylm.pretrain.key"
	metaResumeStep = "tinylm.pretrain.step"
	metaResumeRNG  = "tinylm.pretrain.rng"
	metaAdamSteps  = "tinylm.pretrain.adam_steps"
)

// pretrainKey identifies one pretraining: the model config, the options
// that shape the result and the token stream. A state file made for
// another key is not resumed from.
func pretrainKey(cfg Config, opt PretrainOptions, stream []int) string {
	h := sha256.New()
	c, _ := json.Marshal(cfg) // a struct of ints cannot fail
	h.Write(c)
	fmt.Fprintf(h, "|%d|%d|%d|%g|%d|%g|%d|", opt.Steps, opt.BatchSeqs, opt.SeqLen, opt.LR, opt.WarmupSteps, opt.WeightDecay, opt.Seed)
	var b [8]byte
	for _, id := range stream {
		binary.LittleEndian.PutUint64(b[:], uint64(id))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// saveResume writes the state after step completed steps to path.
func saveResume(path, key string, step int, m *Model, adam *AdamW, rng *rand.PCG) error {
	ps := m.params()
	ts := make([]*tensor, 0, 3*len(ps))
	ts = append(ts, ps...)
	for _, p := range ps {
		st := adam.state[p]
		if st == nil { // before the first step
			st = &adamState{m: make([]float32, len(p.w)), v: make([]float32, len(p.w))}
		}
		ts = append(ts, &tensor{name: "adam_m." + p.name, shape: p.shape, w: st.m},
			&tensor{name: "adam_v." + p.name, shape: p.shape, w: st.v})
	}
	r, err := rng.MarshalBinary()
	if err != nil {
		return err
	}
	cfg, _ := json.Marshal(m.cfg)
	meta := map[string]string{
		metaConfig: string(cfg), metaResumeKey: key, metaResumeStep: strconv.Itoa(step),
		metaAdamSteps: strconv.Itoa(adam.steps), metaResumeRNG: base64.StdEncoding.EncodeToString(r),
	}
	return writeTensors(path, ts, meta)
}

// loadResume restores m, adam and rng from path when it holds a state for
// key, and returns the steps it had completed. A missing file returns 0
// and no error; a file for another pretraining, or one that cannot be
// read, returns 0 and an error saying why, and leaves m, adam and rng as
// they were (the caller starts afresh).
func loadResume(path, key string, m *Model, adam *AdamW, rng *rand.PCG) (int, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	st, err := safetensors.Deserialize(data)
	if err != nil {
		return 0, err
	}
	_, md, err := safetensors.ReadMetadata(data)
	if err != nil {
		return 0, err
	}
	meta := md.Metadata()
	if meta[metaResumeKey] != key {
		return 0, errors.New("it was saved by another pretraining (config, options or corpus differ)")
	}
	step, err1 := strconv.Atoi(meta[metaResumeStep])
	adamSteps, err2 := strconv.Atoi(meta[metaAdamSteps])
	r, err3 := base64.StdEncoding.DecodeString(meta[metaResumeRNG])
	if err := errors.Join(err1, err2, err3); err != nil {
		return 0, err
	}
	var pcg rand.PCG
	if err := pcg.UnmarshalBinary(r); err != nil {
		return 0, err
	}
	// Read everything into fresh tensors first, so a bad file changes
	// nothing.
	ps := m.params()
	ws := make([]*tensor, len(ps))
	ms := make([]*tensor, len(ps))
	vs := make([]*tensor, len(ps))
	for i, p := range ps {
		ws[i] = newTensor(p.name, p.shape...)
		ms[i] = newTensor("adam_m."+p.name, p.shape...)
		vs[i] = newTensor("adam_v."+p.name, p.shape...)
	}
	if err := readTensors(st, append(append(append([]*tensor{}, ws...), ms...), vs...)); err != nil {
		return 0, err
	}
	for i, p := range ps {
		copy(p.w, ws[i].w)
	}
	*rng = pcg
	adam.steps = adamSteps
	adam.state = make(map[*tensor]*adamState, len(ps))
	for i, p := range ps {
		adam.state[p] = &adamState{m: ms[i].w, v: vs[i].w}
	}
	m.refresh()
	return step, nil
}
