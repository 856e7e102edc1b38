package task

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/sia-agent/sia/jsonnum"
)

// Dataset is a task's loaded splits. Gold labels are kept apart from items.
type Dataset struct {
	Train []Example
	items map[string][]Item
	gold  map[string]map[string]string
}

// Items returns the unlabelled items of a split (train items too, without
// their labels).
func (d *Dataset) Items(split string) []Item {
	if split == Train {
		out := make([]Item, len(d.Train))
		for i, e := range d.Train {
			out[i] = e.Item
		}
		return out
	}
	return d.items[split]
}

// Gold returns the labels of a split by id. Only the verify step may call
// it; nothing it returns may reach a harness, an agent or a file.
func (d *Dataset) Gold(split string) map[string]string { return d.gold[split] }

// row is an item with its label while splits are being formed.
type row struct {
	item     Item
	label    string
	hasLabel bool
}

// Load reads and forms the splits as the spec says.
func (t *Task) Load(ctx context.Context) (*Dataset, error) {
	if t.Data == nil {
		return nil, fmt.Errorf("task %q: data is missing (%s); run `sia data pull %s`, or `sia data import DIR` with a local copy, or set SIA_DATA_DIR",
			t.Spec.Name, strings.Join(t.MissingData(), ", "), t.Spec.Name)
	}
	rows := map[string][]row{}
	// Files first, then carves (a carve takes from a formed split).
	for _, name := range splitOrder {
		sp, ok := t.Spec.Splits[name]
		if !ok || sp.File == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rs, err := t.readRows(sp.File)
		if err != nil {
			return nil, fmt.Errorf("task %q split %s: %w", t.Spec.Name, name, err)
		}
		if sp.Gold != nil {
			if err := t.attachGold(rs, *sp.Gold); err != nil {
				return nil, fmt.Errorf("task %q split %s gold: %w", t.Spec.Name, name, err)
			}
		}
		rows[name] = rs
	}
	for _, name := range splitOrder {
		if sp, ok := t.Spec.Splits[name]; ok && sp.CarveFrom != "" {
			carved, kept, err := carve(rows[sp.CarveFrom], name, sp)
			if err != nil {
				return nil, fmt.Errorf("task %q split %s: %w", t.Spec.Name, name, err)
			}
			rows[name], rows[sp.CarveFrom] = carved, kept
		}
	}
	if err := checkDisjoint(rows); err != nil {
		return nil, fmt.Errorf("task %q: %w", t.Spec.Name, err)
	}
	d := &Dataset{items: map[string][]Item{}, gold: map[string]map[string]string{}}
	for _, name := range splitOrder {
		sp, ok := t.Spec.Splits[name]
		if !ok {
			continue
		}
		rs := capRows(rows[name], sp)
		if name == Train {
			for _, r := range rs {
				if !r.hasLabel {
					return nil, fmt.Errorf("task %q: train item %s has no label", t.Spec.Name, r.item.ID)
				}
				d.Train = append(d.Train, Example{Item: r.item, Label: r.label})
			}
			continue
		}
		d.items[name], d.gold[name] = itemsAndGold(rs)
	}
	return d, nil
}

// splitOrder is the order splits are formed in.
var splitOrder = []string{Train, Val, Test}

// carve takes split name's share of src (sp.Count items, else sp.Fraction
// of them) by a seeded shuffle, keeping file order on both sides.
func carve(src []row, name string, sp SplitSpec) (carved, kept []row, err error) {
	n := sp.Count
	if n <= 0 {
		n = int(float64(len(src))*sp.Fraction + 0.5)
	}
	if n < 1 {
		return nil, nil, fmt.Errorf("carving %g of %d items leaves %s empty", sp.Fraction, len(src), name)
	}
	if n >= len(src) {
		return nil, nil, fmt.Errorf("carving %d of %d items leaves %s empty", n, len(src), sp.CarveFrom)
	}
	idx := rand.New(rand.NewPCG(uint64(sp.Seed), 0x51a)).Perm(len(src))
	take := map[int]bool{}
	for _, i := range idx[:n] {
		take[i] = true
	}
	for i, r := range src {
		if take[i] {
			carved = append(carved, r)
		} else {
			kept = append(kept, r)
		}
	}
	return carved, kept, nil
}

// capRows keeps a seeded sample of sp.Max rows, in file order, when there
// are more.
func capRows(rs []row, sp SplitSpec) []row {
	if sp.Max <= 0 || len(rs) <= sp.Max {
		return rs
	}
	idx := rand.New(rand.NewPCG(uint64(sp.Seed), 0x3a7)).Perm(len(rs))[:sp.Max]
	sort.Ints(idx)
	sub := make([]row, len(idx))
	for i, j := range idx {
		sub[i] = rs[j]
	}
	return sub
}

// itemsAndGold splits an evaluation split's rows into label-free items and
// the gold labels by id.
func itemsAndGold(rs []row) ([]Item, map[string]string) {
	gold := map[string]string{}
	items := make([]Item, 0, len(rs))
	for _, r := range rs {
		items = append(items, r.item)
		if r.hasLabel {
			gold[r.item.ID] = r.label
		}
	}
	return items, gold
}

// readRows reads one data file into rows, splitting off the label.
func (t *Task) readRows(file string) ([]row, error) {
	recs, err := ReadRecords(t.Data, file, t.Spec.Items.Format)
	if err != nil {
		return nil, err
	}
	idKey, labelKey := t.Spec.Items.ID, t.Spec.Items.Label
	out := make([]row, 0, len(recs))
	seen := map[string]bool{}
	for i, rec := range recs {
		id, ok := rec[idKey]
		if !ok {
			return nil, fmt.Errorf("%s: record %d has no %q field", file, i+1, idKey)
		}
		sid := scalarString(id)
		if sid == "" {
			return nil, fmt.Errorf("%s: record %d has an empty id", file, i+1)
		}
		if seen[sid] {
			return nil, fmt.Errorf("%s: duplicate id %q", file, sid)
		}
		seen[sid] = true
		r := row{item: Item{ID: sid, Fields: map[string]any{}}}
		for k, v := range rec {
			if k == labelKey {
				r.label, r.hasLabel = scalarString(v), true
				continue
			}
			r.item.Fields[k] = v
		}
		out = append(out, r)
	}
	return out, nil
}

func (t *Task) attachGold(rs []row, g GoldSpec) error {
	recs, err := ReadRecords(t.Data, g.File, "")
	if err != nil {
		return err
	}
	idKey, labelKey := g.ID, g.Label
	if idKey == "" {
		idKey = t.Spec.Items.ID
	}
	if labelKey == "" {
		labelKey = t.Spec.Items.Label
	}
	labels := make(map[string]string, len(recs))
	for i, rec := range recs {
		id, ok1 := rec[idKey]
		lab, ok2 := rec[labelKey]
		if !ok1 || !ok2 {
			return fmt.Errorf("%s: record %d lacks %q or %q", g.File, i+1, idKey, labelKey)
		}
		sid := scalarString(id)
		if _, dup := labels[sid]; dup {
			return fmt.Errorf("%s: duplicate id %q", g.File, sid)
		}
		labels[sid] = scalarString(lab)
	}
	var missing []string
	for i := range rs {
		if l, ok := labels[rs[i].item.ID]; ok {
			rs[i].label, rs[i].hasLabel = l, true
		} else {
			missing = append(missing, rs[i].item.ID)
		}
	}
	// A split scored on a silent subset would report a number about other
	// items than it names.
	if len(missing) > 0 {
		return fmt.Errorf("%s has no label for %d of %d items (e.g. %s)", g.File, len(missing), len(rs), strings.Join(missing[:min(3, len(missing))], ", "))
	}
	return nil
}

// checkDisjoint fails when an id is in two splits: an item labelled in
// train and solved in val or test would turn its label into an answer.
func checkDisjoint(rows map[string][]row) error {
	where := map[string]string{}
	for _, name := range []string{Train, Val, Test} {
		for _, r := range rows[name] {
			if prev, ok := where[r.item.ID]; ok {
				return fmt.Errorf("id %q is in both the %s and %s splits", r.item.ID, prev, name)
			}
			where[r.item.ID] = name
		}
	}
	return nil
}

// ReadRecords reads a CSV, JSON or JSONL file into records. JSON may be an
// array of objects or an object mapping id → object (the key becomes "id"
// unless the object has one) or id → scalar (becomes {"id", "label"}).
// Errors name the file and the line or record.
func ReadRecords(fsys fs.FS, file, format string) ([]map[string]any, error) {
	b, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, err
	}
	if format == "" {
		format = strings.TrimPrefix(path.Ext(file), ".")
	}
	switch format {
	case "csv":
		return parseCSV(file, b)
	case "json":
		return parseJSON(file, b)
	case "jsonl":
		var out []map[string]any
		for i, line := range bytes.Split(b, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				return nil, fmt.Errorf("%s line %d: %w", file, i+1, err)
			}
			out = append(out, m)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%s: unknown format %q (want csv, json or jsonl)", file, format)
	}
}

func parseCSV(file string, b []byte) ([]map[string]any, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // BOM
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = 0
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty CSV (no header)", file)
	}
	head := recs[0]
	out := make([]map[string]any, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		m := make(map[string]any, len(head))
		for i, h := range head {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out, nil
}

func parseJSON(file string, b []byte) ([]map[string]any, error) {
	v, err := jsonnum.Decode(b, jsonnum.Float)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	switch x := v.(type) {
	case []any:
		out := make([]map[string]any, 0, len(x))
		for i, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: element %d is not an object", file, i)
			}
			out = append(out, m)
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([]map[string]any, 0, len(x))
		for _, k := range keys {
			switch e := x[k].(type) {
			case map[string]any:
				if _, ok := e["id"]; !ok {
					e["id"] = k
				}
				out = append(out, e)
			default:
				out = append(out, map[string]any{"id": k, "label": e})
			}
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%s: want a JSON array or object", file)
	}
}

// scalarString renders an id or label as text: strings as-is, integral
// numbers without a decimal point, other values as JSON.
func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// IDString renders an id or label value read from a data file as text,
// the way splits and gold are keyed: strings as-is, integral numbers
// without a decimal point, other values as JSON.
func IDString(v any) string { return scalarString(v) }
