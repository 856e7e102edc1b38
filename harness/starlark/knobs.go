package starlark

import (
	"fmt"

	sl "go.starlark.net/starlark"
)

// knobsValue is the predeclared `knobs`: a read-only mapping of knob name
// to setting. It is empty while the module's top level runs (KNOBS is not
// read yet) and says so clearly if used there.
type knobsValue struct {
	settings *sl.Dict // nil until settled
}

var (
	_ sl.Mapping  = (*knobsValue)(nil)
	_ sl.HasAttrs = (*knobsValue)(nil)
	_ sl.Iterable = (*knobsValue)(nil)
)

func (k *knobsValue) settle(d *sl.Dict) { k.settings = d }

var errKnobsTopLevel = fmt.Errorf("knobs are set after the top level runs: read them inside setup() or solve()")

func (k *knobsValue) String() string {
	if k.settings == nil {
		return "knobs(<unset>)"
	}
	return "knobs(" + k.settings.String() + ")"
}
func (k *knobsValue) Type() string          { return "knobs" }
func (k *knobsValue) Freeze()               {}
func (k *knobsValue) Truth() sl.Bool        { return k.settings != nil && k.settings.Len() > 0 }
func (k *knobsValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: knobs") }

func (k *knobsValue) Get(key sl.Value) (sl.Value, bool, error) {
	if k.settings == nil {
		return nil, false, errKnobsTopLevel
	}
	v, found, err := k.settings.Get(key)
	if err == nil && !found {
		keys := make([]string, 0, k.settings.Len())
		for _, kk := range k.settings.Keys() {
			keys = append(keys, kk.String())
		}
		return nil, false, fmt.Errorf("knob %s is not declared in KNOBS (declared: %v)", key, keys)
	}
	return v, found, err
}

func (k *knobsValue) Iterate() sl.Iterator {
	if k.settings == nil {
		return sl.NewList(nil).Iterate()
	}
	return k.settings.Iterate()
}

func (k *knobsValue) AttrNames() []string { return []string{"get", "items", "keys"} }

func (k *knobsValue) Attr(name string) (sl.Value, error) {
	switch name {
	case "get":
		return sl.NewBuiltin("knobs.get", func(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
			var key string
			var dflt sl.Value = sl.None
			if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &key, &dflt); err != nil {
				return nil, err
			}
			if k.settings == nil {
				return nil, errKnobsTopLevel
			}
			v, found, err := k.settings.Get(sl.String(key))
			if err != nil || !found {
				return dflt, err
			}
			return v, nil
		}), nil
	case "keys", "items":
		return sl.NewBuiltin("knobs."+name, func(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
			if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
				return nil, err
			}
			if k.settings == nil {
				return nil, errKnobsTopLevel
			}
			var out []sl.Value
			for _, kv := range k.settings.Items() {
				if name == "keys" {
					out = append(out, kv[0])
				} else {
					out = append(out, kv)
				}
			}
			return sl.NewList(out), nil
		}), nil
	}
	return nil, nil
}
