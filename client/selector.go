package client

import (
	"fmt"
	"slices"
	"strings"
)

// Selector is a parsed label selector: every requirement must hold.
// The zero Selector matches everything.
type Selector []requirement

// requirement is one term of a selector.
type requirement struct {
	key    string
	op     string // "=", "!=", "in", "notin", "exists", "!"
	values []string
}

// ParseSelector parses a label selector in Kubernetes' syntax, terms
// separated by commas: key=value, key==value, key!=value, key in (a,b),
// key notin (a,b), key (the label exists), !key (it does not). An empty
// string selects everything. A bad selector is an error matching ErrInvalid.
func ParseSelector(s string) (Selector, error) {
	var sel Selector
	for _, term := range splitTerms(s) {
		term = strings.TrimSpace(term)
		if term == "" {
			continue
		}
		r, err := parseTerm(term)
		if err != nil {
			return nil, fmt.Errorf("label selector %q: %w", s, err)
		}
		sel = append(sel, r)
	}
	return sel, nil
}

// splitTerms splits at commas outside parentheses.
func splitTerms(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func parseTerm(term string) (requirement, error) {
	bad := func(why string) (requirement, error) {
		return requirement{}, fmt.Errorf("%w: term %q: %s", ErrInvalid, term, why)
	}
	if k, ok := strings.CutPrefix(term, "!"); ok {
		k = strings.TrimSpace(k)
		if !validLabelKey(k) {
			return bad("want !key")
		}
		return requirement{key: k, op: "!"}, nil
	}
	for _, op := range []string{"!=", "==", "="} {
		if k, v, ok := strings.Cut(term, op); ok {
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if !validLabelKey(k) {
				return bad("the key is empty or holds spaces")
			}
			if op == "==" {
				op = "="
			}
			return requirement{key: k, op: op, values: []string{v}}, nil
		}
	}
	fields := strings.Fields(term)
	if len(fields) == 1 {
		if !validLabelKey(fields[0]) {
			return bad("want key")
		}
		return requirement{key: fields[0], op: "exists"}, nil
	}
	if len(fields) >= 2 && (fields[1] == "in" || fields[1] == "notin") {
		rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(term[len(fields[0]):]), fields[1]))
		inner, ok := strings.CutPrefix(rest, "(")
		if ok {
			inner, ok = strings.CutSuffix(inner, ")")
		}
		if !ok {
			return bad("want " + fields[1] + " (value,…)")
		}
		var values []string
		for _, v := range strings.Split(inner, ",") {
			if v = strings.TrimSpace(v); v != "" {
				values = append(values, v)
			}
		}
		if len(values) == 0 {
			return bad("the value list is empty")
		}
		return requirement{key: fields[0], op: fields[1], values: values}, nil
	}
	return bad("want key=value, key!=value, key in (…), key notin (…), key or !key")
}

func validLabelKey(k string) bool {
	return k != "" && !strings.ContainsAny(k, " \t(),!=")
}

// Matches reports whether labels satisfy every requirement of the selector.
func (s Selector) Matches(labels map[string]string) bool {
	for _, r := range s {
		v, has := labels[r.key]
		var ok bool
		switch r.op {
		case "=":
			ok = has && v == r.values[0]
		case "!=":
			ok = !has || v != r.values[0]
		case "in":
			ok = has && slices.Contains(r.values, v)
		case "notin":
			ok = !has || !slices.Contains(r.values, v)
		case "exists":
			ok = has
		case "!":
			ok = !has
		}
		if !ok {
			return false
		}
	}
	return true
}

// String is the selector in its canonical syntax.
func (s Selector) String() string {
	terms := make([]string, 0, len(s))
	for _, r := range s {
		switch r.op {
		case "=", "!=":
			terms = append(terms, r.key+r.op+r.values[0])
		case "in", "notin":
			terms = append(terms, r.key+" "+r.op+" ("+strings.Join(r.values, ",")+")")
		case "exists":
			terms = append(terms, r.key)
		case "!":
			terms = append(terms, "!"+r.key)
		}
	}
	return strings.Join(terms, ",")
}
