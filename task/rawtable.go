package task

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// rawTable is a data file kept as written, so that a subset of its rows can
// be written back in the same format, columns and value types: what an
// external evaluator reads must look like the file it was written for.
type rawTable struct {
	file   string
	format string   // csv, json or jsonl
	header []string // csv: the columns, in order
	object bool     // json: an object keyed by id rather than an array
	rows   []rawRow
	byID   map[string]int
	cols   []string // json, jsonl: every key, sorted
}

// rawRow is one record. For JSON, rec holds the decoded object with its
// numbers as json.Number, so writing it back keeps their text.
type rawRow struct {
	id    string
	key   string // json object shape: the key the record sits under
	cells []string
	rec   map[string]any
	raw   json.RawMessage // json, jsonl: the element as written
}

// readRawTable reads file (relative to fsys) keyed by the idKey column.
// JSON may be an array of objects or an object of id → object or id →
// scalar (then the scalar is the "label", as ReadRecords reads it).
func readRawTable(fsys fs.FS, file, idKey string) (*rawTable, error) {
	b, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, err
	}
	t := &rawTable{file: file, format: strings.TrimPrefix(strings.ToLower(path.Ext(file)), "."), byID: map[string]int{}}
	switch t.format {
	case "csv":
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))).ReadAll()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if len(recs) == 0 {
			return nil, fmt.Errorf("%s: empty CSV (no header)", file)
		}
		t.header = recs[0]
		idCol := -1
		for i, h := range t.header {
			if h == idKey {
				idCol = i
			}
		}
		if idCol < 0 {
			return nil, fmt.Errorf("%s: no %q column", file, idKey)
		}
		for _, r := range recs[1:] {
			t.add(rawRow{id: r[idCol], cells: r})
		}
	case "json":
		trimmed := bytes.TrimSpace(b)
		if len(trimmed) > 0 && trimmed[0] == '{' {
			t.object = true
			var m map[string]json.RawMessage
			if err := json.Unmarshal(trimmed, &m); err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				row := rawRow{key: k, id: k, raw: m[k]}
				if rec, ok := decodeObject(m[k]); ok {
					row.rec = rec
					if v, ok := rec[idKey]; ok {
						row.id = scalarString(jsonScalar(v))
					}
				}
				t.add(row)
			}
		} else {
			var arr []json.RawMessage
			if err := json.Unmarshal(trimmed, &arr); err != nil {
				return nil, fmt.Errorf("%s: want a JSON array or object: %w", file, err)
			}
			for i, raw := range arr {
				row, err := t.recordRow(raw, idKey, fmt.Sprintf("element %d", i))
				if err != nil {
					return nil, err
				}
				t.add(row)
			}
		}
	case "jsonl":
		for i, line := range bytes.Split(b, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			row, err := t.recordRow(bytes.TrimSpace(line), idKey, fmt.Sprintf("line %d", i+1))
			if err != nil {
				return nil, err
			}
			t.add(row)
		}
	default:
		return nil, fmt.Errorf("%s: unknown format %q (want csv, json or jsonl)", file, t.format)
	}
	if t.format != "csv" {
		seen := map[string]bool{}
		for _, r := range t.rows {
			for k := range r.rec {
				if !seen[k] {
					seen[k] = true
					t.cols = append(t.cols, k)
				}
			}
		}
		sort.Strings(t.cols)
	}
	return t, nil
}

func (t *rawTable) recordRow(raw json.RawMessage, idKey, where string) (rawRow, error) {
	rec, ok := decodeObject(raw)
	if !ok {
		return rawRow{}, fmt.Errorf("%s %s: not an object", t.file, where)
	}
	v, ok := rec[idKey]
	if !ok {
		return rawRow{}, fmt.Errorf("%s %s: no %q", t.file, where, idKey)
	}
	return rawRow{id: scalarString(jsonScalar(v)), rec: rec, raw: raw}, nil
}

func (t *rawTable) add(r rawRow) {
	if _, dup := t.byID[r.id]; !dup {
		t.byID[r.id] = len(t.rows)
	}
	t.rows = append(t.rows, r)
}

// row returns the record of id.
func (t *rawTable) row(id string) (rawRow, bool) {
	i, ok := t.byID[id]
	if !ok {
		return rawRow{}, false
	}
	return t.rows[i], true
}

// value returns a column of a row as a JSON-ready value (json.Number for
// numbers, strings for CSV cells), and whether the row has it.
func (t *rawTable) value(r rawRow, col string) (any, bool) {
	if t.format == "csv" {
		for i, h := range t.header {
			if h == col && i < len(r.cells) {
				return r.cells[i], true
			}
		}
		return nil, false
	}
	v, ok := r.rec[col]
	return v, ok
}

// columns lists the table's columns: the CSV header, or every JSON key.
func (t *rawTable) columns() []string {
	if t.format == "csv" {
		return t.header
	}
	return t.cols
}

// encode writes rows in the table's format. Rows read from this table are
// written as they were; rows made elsewhere (see projectRow) are encoded.
// drop names a column to leave out of every row.
func (t *rawTable) encode(rows []rawRow, drop string) ([]byte, error) {
	var buf bytes.Buffer
	switch t.format {
	case "csv":
		keep := make([]int, 0, len(t.header))
		for i, h := range t.header {
			if h != drop {
				keep = append(keep, i)
			}
		}
		w := csv.NewWriter(&buf)
		line := make([]string, len(keep))
		for j, i := range keep {
			line[j] = t.header[i]
		}
		if err := w.Write(line); err != nil {
			return nil, err
		}
		for _, r := range rows {
			for j, i := range keep {
				line[j] = ""
				if i < len(r.cells) {
					line[j] = r.cells[i]
				}
			}
			if err := w.Write(line); err != nil {
				return nil, err
			}
		}
		w.Flush()
		return buf.Bytes(), w.Error()
	case "json", "jsonl":
		elems := make([]json.RawMessage, len(rows))
		for i, r := range rows {
			e, err := r.element(drop)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.file, err)
			}
			elems[i] = e
		}
		if t.format == "jsonl" {
			for _, e := range elems {
				buf.Write(e)
				buf.WriteByte('\n')
			}
			return buf.Bytes(), nil
		}
		if t.object {
			buf.WriteString("{")
			for i, r := range rows {
				if i > 0 {
					buf.WriteString(",")
				}
				k, _ := json.Marshal(r.key)
				buf.WriteString("\n ")
				buf.Write(k)
				buf.WriteString(": ")
				buf.Write(elems[i])
			}
			buf.WriteString("\n}\n")
			return buf.Bytes(), nil
		}
		buf.WriteString("[")
		for i, e := range elems {
			if i > 0 {
				buf.WriteString(",")
			}
			buf.WriteString("\n ")
			buf.Write(e)
		}
		buf.WriteString("\n]\n")
		return buf.Bytes(), nil
	}
	return nil, fmt.Errorf("%s: unknown format %q", t.file, t.format)
}

// element is a JSON row as written, without the drop key.
func (r rawRow) element(drop string) (json.RawMessage, error) {
	if r.rec == nil {
		return r.raw, nil // an id → scalar object entry
	}
	if _, has := r.rec[drop]; !has && r.raw != nil {
		return r.raw, nil
	}
	out := make(map[string]any, len(r.rec))
	for k, v := range r.rec {
		if k != drop {
			out[k] = v
		}
	}
	return marshalNoEscape(out)
}

// projectRow makes a row of t (the gold file's shape) for an item whose
// label comes from another file (a val item carved from the train file):
// the id and label columns are set, every other column of t is taken from
// src's row where it has it, and left empty (CSV) or out (JSON) otherwise.
func (t *rawTable) projectRow(id string, idVal, label any, idCol, labelCol string, src *rawTable, srcRow rawRow) (rawRow, error) {
	get := func(col string) (any, bool) {
		switch col {
		case idCol:
			return idVal, true
		case labelCol:
			return label, true
		}
		if src == nil {
			return nil, false
		}
		return src.value(srcRow, col)
	}
	r := rawRow{id: id, key: id}
	if t.format == "csv" {
		r.cells = make([]string, len(t.header))
		for i, h := range t.header {
			if v, ok := get(h); ok {
				r.cells[i] = cellText(v)
			}
		}
		return r, nil
	}
	if t.object && len(t.cols) == 0 {
		// id → scalar: the label is the value.
		raw, err := marshalNoEscape(label)
		r.raw = raw
		return r, err
	}
	r.rec = map[string]any{}
	for _, c := range append([]string{idCol, labelCol}, t.cols...) {
		if v, ok := get(c); ok {
			r.rec[c] = v
		}
	}
	if t.object {
		if _, hadID := firstRec(t)[idCol]; !hadID {
			delete(r.rec, idCol) // the key is the id
		}
	}
	return r, nil
}

func firstRec(t *rawTable) map[string]any {
	for _, r := range t.rows {
		if r.rec != nil {
			return r.rec
		}
	}
	return nil
}

// cellText renders a value as CSV text.
func cellText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return ""
	}
	return scalarString(jsonScalar(v))
}

// decodeObject decodes a JSON object keeping numbers as json.Number.
func decodeObject(raw json.RawMessage) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

// jsonScalar turns json.Number into float64 (or its text, when float64
// cannot hold it), as ReadRecords does, so ids key the same way.
func jsonScalar(v any) any {
	if n, ok := v.(json.Number); ok {
		if f, err := n.Float64(); err == nil {
			return f
		}
		return n.String()
	}
	return v
}

func marshalNoEscape(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
