// Package dataview builds what a harness or an agent may see of a task's
// data: the one place that decides it, so the Starlark runtime (`data.*`,
// `ctx.train`), the Python runtime (`--dataset_dir`) and the agents' file
// tools cannot drift apart.
//
// A view is the task's public folder with every held-out row taken out of
// the file it came from. Concretely, for the items being solved:
//
//   - the train split's file holds exactly the train examples the harness
//     may learn from, labels included — never a val or test row (val is
//     often carved from that very file), and never an item being solved;
//   - the items file (the test split's public file, SIA's layout) holds
//     exactly the items being solved, without labels;
//   - every other file a split reads its rows from keeps the rows of
//     allowed train examples and of the items being solved (the latter
//     without their label field), and loses all others;
//   - a gold file that sits under public/ (a task-authoring slip) is not
//     in the view at all;
//   - files no split reads (task.md, sample_submission.csv, classes.json)
//     are copied as they are.
//
// Gold never enters a view: the private folder is not read at all.
package dataview

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
	"testing/fstest" // the standard library's in-memory fs.FS; nothing else of testing is imported

	"github.com/sia-agent/sia/task"
)

// Builder makes views of one task. Build it once per run; it is safe for
// concurrent use.
type Builder struct {
	public    fs.FS // the raw public folder; nil when the task has none
	idKey     string
	labelKey  string
	trainFile string // relative to public/, "" when none
	itemsFile string
	// sources are the other public files splits read rows from.
	sources map[string]bool
	// goldFiles are gold files that sit under public/: never shown.
	goldFiles map[string]bool
	train     []task.Example
}

// New prepares a builder for t's data as d holds it.
func New(t *task.Task, d *task.Dataset) (*Builder, error) {
	b := &Builder{public: t.Public(), idKey: t.Spec.Items.ID, labelKey: t.Spec.Items.Label,
		sources: map[string]bool{}, goldFiles: map[string]bool{}, train: d.Train}
	b.trainFile, b.itemsFile = t.Layout()
	for _, sp := range t.Spec.Splits {
		if p, ok := strings.CutPrefix(sp.File, "public/"); ok && p != b.trainFile && p != b.itemsFile {
			b.sources[p] = true
		}
		if sp.Gold != nil {
			if p, ok := strings.CutPrefix(sp.Gold.File, "public/"); ok {
				b.goldFiles[p] = true
			}
		}
	}
	return b, nil
}

// Request says what a view is for.
type Request struct {
	// Solving are the items the harness will be asked to solve. They never
	// appear with a label, and an item of the train split that is being
	// solved leaves the harness's train examples.
	Solving []task.Item
	// HoldOut names further train examples to hide (a cross-validation
	// fold), by id.
	HoldOut []string
}

// View is what one harness run may see.
type View struct {
	// Files is the public folder as the harness sees it.
	Files fs.FS
	// Train is the labelled examples it may learn from (`ctx.train`); the
	// train file in Files holds exactly these.
	Train []task.Example
}

// View builds the view for one request.
func (b *Builder) View(r Request) (*View, error) {
	hidden := make(map[string]bool, len(r.Solving)+len(r.HoldOut))
	solving := make(map[string]bool, len(r.Solving))
	for _, it := range r.Solving {
		hidden[it.ID], solving[it.ID] = true, true
	}
	for _, id := range r.HoldOut {
		hidden[id] = true
	}
	v := &View{Train: make([]task.Example, 0, len(b.train))}
	allowed := make(map[string]bool, len(b.train))
	for _, e := range b.train {
		if !hidden[e.ID] {
			v.Train = append(v.Train, e)
			allowed[e.ID] = true
		}
	}
	files := fstest.MapFS{}
	if b.public != nil {
		err := fs.WalkDir(b.public, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, keep, err := b.file(p, v.Train, r.Solving, allowed, solving)
			if err != nil {
				return fmt.Errorf("data view: %s: %w", p, err)
			}
			if keep {
				files[p] = &fstest.MapFile{Data: data, Mode: 0o644}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	// The train and items files exist even when the public folder lacks
	// them (generated and carved splits).
	if b.trainFile != "" {
		if _, ok := files[b.trainFile]; !ok {
			data, err := encode(b.trainFile, nil, trainRows(v.Train, b.idKey, b.labelKey))
			if err != nil {
				return nil, err
			}
			files[b.trainFile] = &fstest.MapFile{Data: data, Mode: 0o644}
		}
	}
	if b.itemsFile != "" {
		if _, ok := files[b.itemsFile]; !ok {
			data, err := encode(b.itemsFile, nil, itemRows(r.Solving, b.idKey, b.labelKey))
			if err != nil {
				return nil, err
			}
			files[b.itemsFile] = &fstest.MapFile{Data: data, Mode: 0o644}
		}
	}
	v.Files = files
	return v, nil
}

// file returns the view's version of public file p, and whether the view
// has it at all.
func (b *Builder) file(p string, train []task.Example, solving []task.Item, allowed, isSolving map[string]bool) ([]byte, bool, error) {
	orig, err := fs.ReadFile(b.public, p)
	if err != nil {
		return nil, false, err
	}
	switch {
	case b.goldFiles[p]:
		return nil, false, nil
	case p == b.trainFile:
		data, err := encode(p, orig, trainRows(train, b.idKey, b.labelKey))
		return data, true, err
	case p == b.itemsFile:
		data, err := encode(p, orig, itemRows(solving, b.idKey, b.labelKey))
		return data, true, err
	case b.sources[p]:
		recs, err := task.ReadRecords(b.public, p, "")
		if err != nil {
			return nil, false, err
		}
		var keep []map[string]any
		for _, rec := range recs {
			id := task.IDString(rec[b.idKey])
			switch {
			case allowed[id]:
				keep = append(keep, rec)
			case isSolving[id]:
				delete(rec, b.labelKey)
				keep = append(keep, rec)
			}
		}
		data, err := encode(p, orig, keep)
		return data, true, err
	}
	return orig, true, nil
}

func trainRows(train []task.Example, idKey, labelKey string) []map[string]any {
	rows := make([]map[string]any, len(train))
	for i, e := range train {
		rows[i] = record(e.Item, idKey)
		rows[i][labelKey] = e.Label
	}
	return rows
}

func itemRows(items []task.Item, idKey, labelKey string) []map[string]any {
	rows := make([]map[string]any, len(items))
	for i, it := range items {
		rows[i] = record(it, idKey)
		delete(rows[i], labelKey) // never, even if a field shares the name
	}
	return rows
}

func record(it task.Item, idKey string) map[string]any {
	m := make(map[string]any, len(it.Fields)+1)
	for k, v := range it.Fields {
		m[k] = v
	}
	m[idKey] = it.ID
	return m
}

// Ext reports a file's record format from its name.
func ext(p string) string { return strings.ToLower(strings.TrimPrefix(path.Ext(p), ".")) }
