package data

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	longcotchess "github.com/sia-agent/sia/task/bundled/longcot-chess"
)

// PullOptions configure Pull. The zero value is usable.
type PullOptions struct {
	Client *http.Client
	// HFToken is a HuggingFace access token (gpqa needs one).
	HFToken string
	// Progress receives download progress.
	Progress Progress
	// Rewrite, when set, maps each source URL before fetching (tests point
	// the sources at an httptest server; mirrors can use it too).
	Rewrite func(url string) string
}

// FileReport says what happened to one file.
type FileReport struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	// Pinned is true when the file's sha256 was checked against a pin.
	Pinned bool `json:"pinned"`
}

// Report is the outcome of a pull or an import, for the CLI to render.
type Report struct {
	Task  string       `json:"task"`
	Dir   string       `json:"dir"`
	Files []FileReport `json:"files"`
	Notes []string     `json:"notes,omitempty"`
}

// Pull downloads a task's files into root/<task>/, each atomically.
// Errors wrap ErrOffline, ErrNeedsAuth or ErrChecksum with text that says
// what to do.
func Pull(ctx context.Context, task, root string, opt PullOptions) (*Report, error) {
	srcs, err := Sources(task)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, task)
	rep := &Report{Task: task, Dir: dir}
	for _, s := range srcs {
		if s.Auth == AuthHuggingFace && opt.HFToken == "" {
			return rep, fmt.Errorf("pull %s: %w: %s", task, ErrNeedsAuth, hfHint)
		}
		url := s.URL
		if opt.Rewrite != nil {
			url = opt.Rewrite(url)
		}
		dest := filepath.Join(dir, s.File)
		if s.Convert != "" {
			dest = filepath.Join(dir, ".download", s.File)
		}
		token := ""
		if s.Auth == AuthHuggingFace {
			token = opt.HFToken
		}
		sum, err := Download(ctx, opt.Client, url, dest, s.SHA256, token, opt.Progress)
		if err != nil {
			return rep, fmt.Errorf("pull %s: %w", task, explain(err, s))
		}
		if s.Convert == "" {
			rep.Files = append(rep.Files, FileReport{File: s.File, SHA256: sum, Pinned: s.SHA256 != ""})
			if s.SHA256 == "" {
				rep.Notes = append(rep.Notes, fmt.Sprintf("%s: no pinned sha256 (no reference copy); got %s", s.File, sum))
			}
			continue
		}
		files, err := convert(s.Convert, dest, dir)
		os.RemoveAll(filepath.Join(dir, ".download"))
		if err != nil {
			return rep, fmt.Errorf("pull %s: %w", task, err)
		}
		for _, f := range files {
			rep.Files = append(rep.Files, FileReport{File: f})
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("converted %s (sha256 %s, unpinned) to SIA's layout", s.File, sum))
	}
	if task == longcotchess.Name {
		n, err := writeChessTrain(ctx, dir, 1)
		if err != nil {
			return rep, fmt.Errorf("pull %s: %w", task, err)
		}
		rep.Files = append(rep.Files, FileReport{File: "public/train.json"})
		rep.Notes = append(rep.Notes, fmt.Sprintf("public/train.json: %d generated questions with exact answers (not LongCoT's)", n))
	}
	return rep, nil
}

const hfHint = "GPQA Diamond is gated on HuggingFace: sign in, accept the dataset's terms at " +
	"https://huggingface.co/datasets/Idavidrein/gpqa, create an access token at " +
	"https://huggingface.co/settings/tokens, and pass it (the CLI reads HF_TOKEN)"

func explain(err error, s Source) error {
	switch {
	case errors.Is(err, ErrNeedsAuth) && s.Auth == AuthHuggingFace:
		return fmt.Errorf("%w; %s", err, hfHint)
	case errors.Is(err, ErrNeedsAuth):
		return fmt.Errorf("%w; the source refused the request: check that the URL is public or mirror the file and use `sia data import DIR`", err)
	case errors.Is(err, ErrOffline):
		return fmt.Errorf("%w; this machine cannot reach the source: download the files elsewhere and lay them out with `sia data import DIR`", err)
	case errors.Is(err, ErrChecksum):
		return fmt.Errorf("%w; the file differs from the pinned copy (the source changed, or a proxy altered it); nothing was written", err)
	}
	return err
}

// convert turns a raw download into the task's files, returning them.
func convert(kind, raw, dir string) ([]string, error) {
	switch kind {
	case "gpqa_csv":
		return convertGPQA(raw, dir)
	}
	return nil, fmt.Errorf("unknown conversion %q", kind)
}

// convertGPQA writes SIA's gpqa layout from GPQA's CSV: options shuffled
// with a seed per question (so the correct option is not always A), public
// questions without the answer, private ones with correct_answer_letter.
func convertGPQA(raw, dir string) ([]string, error) {
	f, err := os.Open(raw)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("gpqa csv: %w", err)
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("gpqa csv: no rows")
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[strings.TrimSpace(h)] = i
	}
	need := []string{"Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3"}
	for _, n := range need {
		if _, ok := col[n]; !ok {
			return nil, fmt.Errorf("gpqa csv: no %q column", n)
		}
	}
	get := func(r []string, name string) string {
		if i, ok := col[name]; ok && i < len(r) {
			return strings.TrimSpace(r[i])
		}
		return ""
	}
	var pub, priv []map[string]any
	for i, r := range recs[1:] {
		opts := []string{get(r, "Correct Answer"), get(r, "Incorrect Answer 1"), get(r, "Incorrect Answer 2"), get(r, "Incorrect Answer 3")}
		perm := rand.New(rand.NewPCG(uint64(i), 0x69a)).Perm(4)
		options := map[string]string{}
		correct := ""
		for slot, j := range perm {
			l := string(rune('A' + slot))
			options[l] = opts[j]
			if j == 0 {
				correct = l
			}
		}
		q := map[string]any{"id": i, "Question": get(r, "Question"), "options": options,
			"domain": get(r, "High-level domain"), "subdomain": get(r, "Subdomain")}
		pub = append(pub, q)
		p := map[string]any{"correct_answer_letter": correct}
		for k, v := range q {
			p[k] = v
		}
		priv = append(priv, p)
	}
	if err := writeJSON(filepath.Join(dir, "public/diamond_questions.json"), pub); err != nil {
		return nil, err
	}
	if err := writeJSON(filepath.Join(dir, "private/diamond_questions.json"), priv); err != nil {
		return nil, err
	}
	return []string{"public/diamond_questions.json", "private/diamond_questions.json"}, nil
}

// writeChessTrain writes public/train.json: generated labelled questions.
func writeChessTrain(ctx context.Context, dir string, seed int64) (int, error) {
	items, err := longcotchess.Generate(ctx, longcotchess.GenOptions{Seed: seed, KnightItems: 24, MoveItems: 16, Prefix: "train"})
	if err != nil {
		return 0, err
	}
	return len(items), writeJSON(filepath.Join(dir, "public/train.json"), items)
}

// writeJSON writes v as indented JSON, atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return writeFile(path, append(b, '\n'))
}

// writeFile writes through a temporary file and a rename.
func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
