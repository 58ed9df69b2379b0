// Command nightly-report is the demo's workload: it aggregates a small orders
// file into a per-region revenue report and prints it, stamped with the cron
// tick it runs for (RAFTCRON_SCHEDULED_TIME). With -out it also writes the
// report to a file (temp file, fsync, rename).
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

func main() {
	in := flag.String("in", "/data/orders.csv", "orders file: region,product,quantity,unit_price")
	out := flag.String("out", "", "also write the report to this file")
	flag.Parse()
	report, err := build(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nightly-report:", err)
		os.Exit(1)
	}
	fmt.Print(report)
	if *out != "" {
		if err := writeFile(*out, report); err != nil {
			fmt.Fprintln(os.Stderr, "nightly-report:", err)
			os.Exit(1)
		}
	}
}

func build(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	r := csv.NewReader(f)
	revenue := map[string]float64{}
	units := map[string]int{}
	rows := 0
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		if line == 1 && rec[0] == "region" {
			continue
		}
		if len(rec) != 4 {
			return "", fmt.Errorf("%s line %d: want 4 fields, got %d", path, line, len(rec))
		}
		q, err := strconv.Atoi(rec[2])
		if err != nil {
			return "", fmt.Errorf("%s line %d: quantity %q: %w", path, line, rec[2], err)
		}
		p, err := strconv.ParseFloat(rec[3], 64)
		if err != nil {
			return "", fmt.Errorf("%s line %d: unit_price %q: %w", path, line, rec[3], err)
		}
		revenue[rec[0]] += float64(q) * p
		units[rec[0]] += q
		rows++
	}
	regions := make([]string, 0, len(revenue))
	for k := range revenue {
		regions = append(regions, k)
	}
	sort.Strings(regions)
	var b strings.Builder
	tick := os.Getenv("RAFTCRON_SCHEDULED_TIME")
	if tick == "" {
		tick = "(run by hand)"
	}
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "nightly report for tick %s (job %s, attempt %s, host %s)\n", tick, os.Getenv("RAFTCRON_JOB"), os.Getenv("RAFTCRON_ATTEMPT"), host)
	total := 0.0
	for _, reg := range regions {
		fmt.Fprintf(&b, "  %-8s %5d units %12.2f\n", reg, units[reg], revenue[reg])
		total += revenue[reg]
	}
	fmt.Fprintf(&b, "  %-8s %5d orders %11.2f\n", "TOTAL", rows, total)
	return b.String(), nil
}

func writeFile(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
