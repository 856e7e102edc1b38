package starlark

import (
	"fmt"
	"sort"

	sl "go.starlark.net/starlark"
)

// object is an immutable Starlark value with fixed attributes: plain values
// and bound builtins over a Go object (a fitted model, an index). The Go
// object behind it never changes, so sharing it across threads is safe.
type object struct {
	typ   string
	attrs sl.StringDict
	inner any // the Go value, for builtins that take this object
}

var _ sl.HasAttrs = (*object)(nil)

func (o *object) String() string        { return "<" + o.typ + ">" }
func (o *object) Type() string          { return o.typ }
func (o *object) Freeze()               {}
func (o *object) Truth() sl.Bool        { return true }
func (o *object) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: %s", o.typ) }
func (o *object) Attr(name string) (sl.Value, error) {
	if v, ok := o.attrs[name]; ok {
		return v, nil
	}
	return nil, nil
}

func (o *object) AttrNames() []string {
	out := make([]string, 0, len(o.attrs))
	for k := range o.attrs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type builtinFn = func(*sl.Thread, *sl.Builtin, sl.Tuple, []sl.Tuple) (sl.Value, error)

// method makes a bound builtin named "typ.name".
func method(typ, name string, fn builtinFn) *sl.Builtin {
	return sl.NewBuiltin(typ+"."+name, fn)
}
