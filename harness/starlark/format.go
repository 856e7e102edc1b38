package starlark

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	sl "go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// go.starlark.net's `%` on strings has no flags, width or precision
// ("%.4f" % x fails with "unknown conversion %."), yet models write Python's
// printf-style formatting by habit. The runtime therefore wraps the left
// operand of every `%` in the harness's syntax tree (and of `name %= y`) in a
// hidden builtin, percentName: it returns a string as a formatString, whose
// `%` follows Python's printf-style rules below, and any other value
// unchanged, so `7 % 3` is still a modulo.

// percentName is the hidden predeclared builtin the rewrite calls.
const percentName = "__sia_percent"

// rewritePercent wraps the left operand of every `%` expression in f, and
// turns `name %= y` into `name = __sia_percent(name) % y`.
func rewritePercent(f *syntax.File) {
	wrap := func(x syntax.Expr) syntax.Expr {
		start, end := x.Span()
		return &syntax.CallExpr{Fn: &syntax.Ident{NamePos: start, Name: percentName}, Lparen: start, Args: []syntax.Expr{x}, Rparen: end}
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.BinaryExpr:
			if n.Op == syntax.PERCENT {
				n.X = wrap(n.X)
			}
		case *syntax.AssignStmt:
			if id, ok := n.LHS.(*syntax.Ident); ok && n.Op == syntax.PERCENT_EQ {
				again := &syntax.Ident{NamePos: id.NamePos, Name: id.Name}
				n.RHS = &syntax.BinaryExpr{X: wrap(again), OpPos: n.OpPos, Op: syntax.PERCENT, Y: n.RHS}
				n.Op = syntax.EQ
			}
		}
		return true
	})
}

// percentBuiltin is __sia_percent(x).
var percentBuiltin = sl.NewBuiltin(percentName, func(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	if len(args) != 1 || len(kwargs) != 0 {
		return nil, fmt.Errorf("%s: internal: want one argument", b.Name())
	}
	if s, ok := args[0].(sl.String); ok {
		return formatString(s), nil
	}
	return args[0], nil
})

// formatString is a string on the left of `%`. It exists only between the
// wrap and the operator.
type formatString string

var _ sl.HasBinary = formatString("")

func (s formatString) String() string        { return sl.String(s).String() }
func (s formatString) Type() string          { return "string" }
func (s formatString) Freeze()               {}
func (s formatString) Truth() sl.Bool        { return len(s) > 0 }
func (s formatString) Hash() (uint32, error) { return sl.String(s).Hash() }

// Binary implements `format % args`.
func (s formatString) Binary(op syntax.Token, y sl.Value, side sl.Side) (sl.Value, error) {
	if op != syntax.PERCENT || side != sl.Left {
		return sl.Binary(op, sl.String(s), y) // not reached: the wrap sits left of % only
	}
	out, err := percentFormat(string(s), y)
	if err != nil {
		return nil, err
	}
	return sl.String(out), nil
}

// percentFormat implements Python's printf-style `format % x`:
// %[(key)][flags][width][.precision]conversion, flags from "#0- +",
// conversions s r d i o x X e E f F g G c and %%. x is a tuple of the
// arguments, a mapping for %(key)s, or a single value.
func percentFormat(format string, x sl.Value) (string, error) {
	var b strings.Builder
	tuple, isTuple := x.(sl.Tuple)
	nargs := 1
	if isTuple {
		nargs = len(tuple)
	}
	index := 0
	usedMapping := false
	for {
		i := strings.IndexByte(format, '%')
		if i < 0 {
			b.WriteString(format)
			break
		}
		b.WriteString(format[:i])
		format = format[i+1:]
		if strings.HasPrefix(format, "%") {
			b.WriteByte('%')
			format = format[1:]
			continue
		}
		var arg sl.Value
		if strings.HasPrefix(format, "(") {
			j := strings.IndexByte(format, ')')
			if j < 0 {
				return "", fmt.Errorf("incomplete format key")
			}
			key := format[1:j]
			m, ok := x.(sl.Mapping)
			if !ok {
				return "", fmt.Errorf("format requires a mapping")
			}
			v, found, err := m.Get(sl.String(key))
			if err != nil {
				return "", err
			}
			if !found {
				return "", fmt.Errorf("key not found: %s", key)
			}
			arg, usedMapping = v, true
			format = format[j+1:]
		}
		spec, rest, err := parseSpec(format)
		if err != nil {
			return "", err
		}
		format = rest
		if arg == nil {
			if index >= nargs {
				return "", fmt.Errorf("not enough arguments for format string")
			}
			if isTuple {
				arg = tuple[index]
			} else {
				arg = x
			}
			index++
		}
		s, err := spec.format(arg)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	if !usedMapping && index < nargs {
		return "", fmt.Errorf("too many arguments for format string")
	}
	return b.String(), nil
}

// convSpec is one parsed conversion.
type convSpec struct {
	flags     string // a subset of "#0- +"
	width     int    // -1: none
	precision int    // -1: none
	conv      byte
}

func parseSpec(s string) (convSpec, string, error) {
	c := convSpec{width: -1, precision: -1}
	i := 0
	for i < len(s) && strings.IndexByte("#0- +", s[i]) >= 0 {
		if strings.IndexByte(c.flags, s[i]) < 0 {
			c.flags += string(s[i])
		}
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if j == i {
			return -1
		}
		n, _ := strconv.Atoi(s[j:i])
		return n
	}
	c.width = digits()
	if i < len(s) && s[i] == '.' {
		i++
		if c.precision = digits(); c.precision < 0 {
			c.precision = 0
		}
	}
	if i < len(s) && (s[i] == '*') {
		return c, "", fmt.Errorf("'*' width or precision is not supported; write the number into the format")
	}
	if i >= len(s) {
		return c, "", fmt.Errorf("incomplete format")
	}
	c.conv = s[i]
	if strings.IndexByte("srdioxXeEfFgGc", c.conv) < 0 {
		return c, "", fmt.Errorf("unknown conversion %%%c (supported: s r d i o x X e E f F g G c and %%%%, with flags #0- +, width and .precision)", c.conv)
	}
	return c, s[i+1:], nil
}

// goVerb builds the Go format for this spec with verb.
func (c convSpec) goVerb(verb byte, withPrecision bool) string {
	var b strings.Builder
	b.WriteByte('%')
	b.WriteString(c.flags)
	if c.width >= 0 {
		b.WriteString(strconv.Itoa(c.width))
	}
	if withPrecision && c.precision >= 0 {
		b.WriteString("." + strconv.Itoa(c.precision))
	}
	b.WriteByte(verb)
	return b.String()
}

// pad pads s to the width, on the left unless the - flag is set.
func (c convSpec) pad(s string) string {
	n := len([]rune(s))
	if c.width <= n {
		return s
	}
	fill := strings.Repeat(" ", c.width-n)
	if strings.Contains(c.flags, "-") {
		return s + fill
	}
	return fill + s
}

func (c convSpec) format(arg sl.Value) (string, error) {
	switch c.conv {
	case 's', 'r':
		var str string
		if s, ok := sl.AsString(arg); ok && c.conv == 's' {
			str = s
		} else {
			str = arg.String()
		}
		if c.precision >= 0 {
			if r := []rune(str); len(r) > c.precision {
				str = string(r[:c.precision])
			}
		}
		return c.pad(str), nil
	case 'c':
		switch v := arg.(type) {
		case sl.String:
			if len([]rune(string(v))) != 1 {
				return "", fmt.Errorf("%%c requires a single-character string")
			}
			return c.pad(string(v)), nil
		case sl.Int:
			n, ok := v.Int64()
			if !ok || n < 0 || n > 0x10FFFF {
				return "", fmt.Errorf("%%c argument out of range")
			}
			return c.pad(string(rune(n))), nil
		}
		return "", fmt.Errorf("%%c requires an int or a single-character string, got %s", arg.Type())
	case 'd', 'i', 'o', 'x', 'X':
		n, err := sl.NumberToInt(arg)
		if err != nil {
			return "", fmt.Errorf("%%%c format requires a number, not %s", c.conv, arg.Type())
		}
		verb := c.conv
		if verb == 'i' {
			verb = 'd'
		}
		if verb == 'o' && strings.Contains(c.flags, "#") { // Python writes 0o17, Go 017
			bi := n.BigInt()
			sign := ""
			switch {
			case bi.Sign() < 0:
				sign = "-"
			case strings.Contains(c.flags, "+"):
				sign = "+"
			case strings.Contains(c.flags, " "):
				sign = " "
			}
			digits := new(big.Int).Abs(bi).Text(8)
			if c.precision > len(digits) {
				digits = strings.Repeat("0", c.precision-len(digits)) + digits
			}
			s := sign + "0o" + digits
			if c.width > len(s) && strings.Contains(c.flags, "0") && !strings.Contains(c.flags, "-") {
				s = sign + "0o" + strings.Repeat("0", c.width-len(s)) + digits
			}
			return c.pad(s), nil
		}
		return fmt.Sprintf(c.goVerb(verb, true), n.BigInt()), nil
	case 'e', 'E', 'f', 'F', 'g', 'G':
		f, ok := sl.AsFloat(arg)
		if !ok {
			return "", fmt.Errorf("%%%c format requires a number, not %s", c.conv, arg.Type())
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			s := "inf"
			switch {
			case math.IsNaN(f):
				s = "nan"
			case f < 0:
				s = "-inf"
			case strings.Contains(c.flags, "+"):
				s = "+inf"
			}
			if c.conv == 'E' || c.conv == 'F' || c.conv == 'G' {
				s = strings.ToUpper(s)
			}
			return c.pad(s), nil
		}
		spec := c
		if spec.precision < 0 {
			spec.precision = 6 // Python's default for e, f and g
		}
		verb := c.conv
		if verb == 'F' {
			verb = 'f'
		}
		return fmt.Sprintf(spec.goVerb(verb, true), f), nil
	}
	return "", fmt.Errorf("unknown conversion %%%c", c.conv)
}
