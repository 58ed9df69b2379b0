package scheduler

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// quantity suffixes as Kubernetes resource.Quantity understands them.
var binarySuffixes = map[string]int64{
	"Ki": 1 << 10,
	"Mi": 1 << 20,
	"Gi": 1 << 30,
	"Ti": 1 << 40,
	"Pi": 1 << 50,
	"Ei": 1 << 60,
}

var decimalSuffixes = map[string]int64{
	"k": 1e3,
	"M": 1e6,
	"G": 1e9,
	"T": 1e12,
	"P": 1e15,
	"E": 1e18,
}

// ParseCPU parses a Kubernetes CPU quantity ("500m", "1", "0.25", "2k") into
// millicores. Fractions of a millicore round up, as Kubernetes does.
func ParseCPU(s string) (millis int64, err error) {
	num, mult, err := splitQuantity(s)
	if err != nil {
		return 0, fmt.Errorf("cpu quantity %q: %w", s, err)
	}
	if mult == -1 { // "m": already millicores
		return roundUp(num, 1, s)
	}
	return roundUp(num, float64(mult)*1000, s)
}

// ParseMemory parses a Kubernetes memory quantity ("64Mi", "1G",
// "128974848", "1.5Gi") into bytes. Fractions of a byte round up; "m"
// (milli-bytes) is accepted like Kubernetes does.
func ParseMemory(s string) (bytes int64, err error) {
	num, mult, err := splitQuantity(s)
	if err != nil {
		return 0, fmt.Errorf("memory quantity %q: %w", s, err)
	}
	if mult == -1 {
		return roundUp(num, 0.001, s)
	}
	return roundUp(num, float64(mult), s)
}

// splitQuantity splits a quantity into its non-negative number and the
// multiplier of its suffix; -1 stands for the "m" (milli) suffix.
func splitQuantity(s string) (float64, int64, error) {
	if s == "" {
		return 0, 0, fmt.Errorf("empty quantity: %w", ErrInvalid)
	}
	numPart, suffix := s, ""
	if i := strings.IndexFunc(s, func(r rune) bool {
		return (r < '0' || r > '9') && r != '.' && r != '+'
	}); i >= 0 {
		numPart, suffix = s[:i], s[i:]
	}
	if numPart == "" {
		return 0, 0, fmt.Errorf("no number: %w", ErrInvalid)
	}
	var mult int64
	switch {
	case suffix == "":
		mult = 1
	case suffix == "m":
		mult = -1
	case binarySuffixes[suffix] != 0:
		mult = binarySuffixes[suffix]
	case decimalSuffixes[suffix] != 0:
		mult = decimalSuffixes[suffix]
	default:
		return 0, 0, fmt.Errorf("unknown suffix %q (want one of m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei): %w", suffix, ErrInvalid)
	}
	num, err := strconv.ParseFloat(numPart, 64)
	if err != nil || math.IsNaN(num) || math.IsInf(num, 0) || num < 0 {
		return 0, 0, fmt.Errorf("%q is not a non-negative number: %w", numPart, ErrInvalid)
	}
	return num, mult, nil
}

func roundUp(num, mult float64, s string) (int64, error) {
	v := math.Ceil(num*mult - 1e-9)
	if v < 0 {
		v = 0
	}
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("quantity %q is too large: %w", s, ErrInvalid)
	}
	return int64(v), nil
}
