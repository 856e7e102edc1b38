package starlark

import (
	"fmt"
	"regexp"

	sl "go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

func reModule(*moduleEnv) (sl.Value, error) {
	return &starlarkstruct.Module{Name: "re", Members: sl.StringDict{
		"match":     sl.NewBuiltin("re.match", reMatch),
		"search":    sl.NewBuiltin("re.search", reMatch),
		"fullmatch": sl.NewBuiltin("re.fullmatch", reMatch),
		"findall":   sl.NewBuiltin("re.findall", reFindall),
		"sub":       sl.NewBuiltin("re.sub", reSub),
		"split":     sl.NewBuiltin("re.split", reSplit),
		"escape":    sl.NewBuiltin("re.escape", reEscape),
	}}, nil
}

func compile(fn, pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: bad pattern (Go RE2 syntax): %w", fn, err)
	}
	return re, nil
}

// reMatch implements match (anchored at the start), search (anywhere) and
// fullmatch (the whole string); each returns a match object or None.
func reMatch(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var pattern, s string
	if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &pattern, &s); err != nil {
		return nil, err
	}
	switch b.Name() {
	case "re.match":
		pattern = `^(?:` + pattern + `)`
	case "re.fullmatch":
		pattern = `^(?:` + pattern + `)$`
	}
	re, err := compile(b.Name(), pattern)
	if err != nil {
		return nil, err
	}
	loc := re.FindStringSubmatchIndex(s)
	if loc == nil {
		return sl.None, nil
	}
	return &matchValue{re: re, s: s, loc: loc}, nil
}

// matchValue is a successful match: group(i), groups(), start(i), end(i),
// and group("name") for named groups (?P<name>...).
type matchValue struct {
	re  *regexp.Regexp
	s   string
	loc []int
}

func (m *matchValue) String() string        { return fmt.Sprintf("<match %q>", m.s[m.loc[0]:m.loc[1]]) }
func (m *matchValue) Type() string          { return "match" }
func (m *matchValue) Freeze()               {}
func (m *matchValue) Truth() sl.Bool        { return true }
func (m *matchValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: match") }
func (m *matchValue) AttrNames() []string   { return []string{"end", "group", "groups", "start"} }

func (m *matchValue) groupIndex(fn string, v sl.Value) (int, error) {
	if v == nil {
		return 0, nil
	}
	if name, ok := sl.AsString(v); ok {
		i := m.re.SubexpIndex(name)
		if i < 0 {
			return 0, fmt.Errorf("%s: no group named %q", fn, name)
		}
		return i, nil
	}
	var i int
	if err := sl.AsInt(v, &i); err != nil {
		return 0, fmt.Errorf("%s: group must be an int or a name, got %s", fn, v.Type())
	}
	if i < 0 || i > m.re.NumSubexp() {
		return 0, fmt.Errorf("%s: no group %d (pattern has %d)", fn, i, m.re.NumSubexp())
	}
	return i, nil
}

func (m *matchValue) group(i int) sl.Value {
	if m.loc[2*i] < 0 {
		return sl.None
	}
	return sl.String(m.s[m.loc[2*i]:m.loc[2*i+1]])
}

func (m *matchValue) Attr(name string) (sl.Value, error) {
	switch name {
	case "group", "start", "end":
		return sl.NewBuiltin("match."+name, func(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
			var g sl.Value
			if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 0, &g); err != nil {
				return nil, err
			}
			i, err := m.groupIndex(b.Name(), g)
			if err != nil {
				return nil, err
			}
			switch name {
			case "start":
				return runeOffset(m.s, m.loc[2*i]), nil
			case "end":
				return runeOffset(m.s, m.loc[2*i+1]), nil
			}
			return m.group(i), nil
		}), nil
	case "groups":
		return sl.NewBuiltin("match.groups", func(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
			if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
				return nil, err
			}
			out := make(sl.Tuple, m.re.NumSubexp())
			for i := range out {
				out[i] = m.group(i + 1)
			}
			return out, nil
		}), nil
	}
	return nil, nil
}

// runeOffset converts a byte offset into a character index (Starlark
// strings index by byte, but offsets in characters are what users expect
// from text with non-ASCII letters; -1 stays -1).
func runeOffset(s string, byteOff int) sl.Value {
	if byteOff < 0 {
		return sl.MakeInt(-1)
	}
	return sl.MakeInt(len([]rune(s[:byteOff])))
}

func reFindall(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var pattern, s string
	if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &pattern, &s); err != nil {
		return nil, err
	}
	re, err := compile(b.Name(), pattern)
	if err != nil {
		return nil, err
	}
	var out []sl.Value
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		switch re.NumSubexp() {
		case 0:
			out = append(out, sl.String(m[0]))
		case 1:
			out = append(out, sl.String(m[1]))
		default:
			t := make(sl.Tuple, len(m)-1)
			for i, g := range m[1:] {
				t[i] = sl.String(g)
			}
			out = append(out, t)
		}
	}
	return sl.NewList(out), nil
}

func reSub(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var pattern, repl, s string
	count := 0
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "pattern", &pattern, "repl", &repl, "string", &s, "count?", &count); err != nil {
		return nil, err
	}
	re, err := compile(b.Name(), pattern)
	if err != nil {
		return nil, err
	}
	if count <= 0 {
		return sl.String(re.ReplaceAllString(s, repl)), nil
	}
	var out []byte
	last := 0
	for _, loc := range re.FindAllStringSubmatchIndex(s, count) {
		out = append(out, s[last:loc[0]]...)
		out = re.ExpandString(out, repl, s, loc)
		last = loc[1]
	}
	out = append(out, s[last:]...)
	return sl.String(out), nil
}

func reSplit(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var pattern, s string
	maxsplit := 0
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "pattern", &pattern, "string", &s, "maxsplit?", &maxsplit); err != nil {
		return nil, err
	}
	re, err := compile(b.Name(), pattern)
	if err != nil {
		return nil, err
	}
	n := -1
	if maxsplit > 0 {
		n = maxsplit + 1
	}
	return stringsToList(re.Split(s, n)), nil
}

func reEscape(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var s string
	if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &s); err != nil {
		return nil, err
	}
	return sl.String(regexp.QuoteMeta(s)), nil
}
