package starlark

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	sl "go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/sia-agent/sia/jsonnum"
)

// dataModule reads the task's public data folder, and nothing else.
func dataModule(env *moduleEnv) (sl.Value, error) {
	d := &dataFS{fsys: env.Public}
	return &starlarkstruct.Module{Name: "data", Members: sl.StringDict{
		"read":   sl.NewBuiltin("data.read", d.read),
		"list":   sl.NewBuiltin("data.list", d.list),
		"exists": sl.NewBuiltin("data.exists", d.exists),
		"csv":    sl.NewBuiltin("data.csv", d.csv),
		"json":   sl.NewBuiltin("data.json", d.json),
	}}, nil
}

type dataFS struct {
	fsys fs.FS
}

// open validates a path and reads the file.
func (d *dataFS) readFile(fn, p string) ([]byte, error) {
	if d.fsys == nil {
		return nil, fmt.Errorf("%s(%q): this task has no public data here", fn, p)
	}
	clean := path.Clean(strings.TrimPrefix(p, "./"))
	if !fs.ValidPath(clean) || clean == "." {
		return nil, fmt.Errorf("%s(%q): want a relative path inside the public data folder, without ..", fn, p)
	}
	b, err := fs.ReadFile(d.fsys, clean)
	if err != nil {
		files, _ := d.files()
		if len(files) > 20 {
			files = append(files[:20], "...")
		}
		return nil, fmt.Errorf("%s(%q): %w (public files: %s)", fn, p, err, strings.Join(files, ", "))
	}
	return b, nil
}

func (d *dataFS) files() ([]string, error) {
	if d.fsys == nil {
		return nil, nil
	}
	var out []string
	err := fs.WalkDir(d.fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

func (d *dataFS) read(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var p string
	if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &p); err != nil {
		return nil, err
	}
	data, err := d.readFile(b.Name(), p)
	if err != nil {
		return nil, err
	}
	return sl.String(data), nil
}

func (d *dataFS) exists(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var p string
	if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &p); err != nil {
		return nil, err
	}
	if d.fsys == nil {
		return sl.False, nil
	}
	clean := path.Clean(strings.TrimPrefix(p, "./"))
	if !fs.ValidPath(clean) {
		return sl.False, nil
	}
	st, err := fs.Stat(d.fsys, clean)
	return sl.Bool(err == nil && !st.IsDir()), nil
}

func (d *dataFS) list(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	files, err := d.files()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return stringsToList(files), nil
}

// csv reads a CSV file with a header row into a list of dicts of strings.
func (d *dataFS) csv(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var p string
	if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &p); err != nil {
		return nil, err
	}
	data, err := d.readFile(b.Name(), p)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s(%q): %w", b.Name(), p, err)
	}
	if len(recs) == 0 {
		return sl.NewList(nil), nil
	}
	header := recs[0]
	rows := make([]sl.Value, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		row := sl.NewDict(len(header))
		for j, h := range header {
			if err := row.SetKey(sl.String(h), sl.String(rec[j])); err != nil {
				return nil, err
			}
		}
		rows = append(rows, row)
	}
	return sl.NewList(rows), nil
}

// json decodes a JSON file; integral numbers become ints.
func (d *dataFS) json(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var p string
	if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &p); err != nil {
		return nil, err
	}
	data, err := d.readFile(b.Name(), p)
	if err != nil {
		return nil, err
	}
	v, err := jsonnum.Decode(data, jsonnum.IntOrFloat)
	if err != nil {
		return nil, fmt.Errorf("%s(%q): %w", b.Name(), p, err)
	}
	out, err := toStarlark(v)
	if err != nil {
		return nil, fmt.Errorf("%s(%q): %w", b.Name(), p, err)
	}
	return out, nil
}
