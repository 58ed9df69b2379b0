// Command testtask is the tiny program inside the raftcron/testtask:dev test
// image (built FROM scratch by worker/testimage). Each flag is one behaviour a
// test needs from an attempt.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
)

func main() {
	print := flag.String("print", "", "print this text on stdout")
	printErr := flag.String("stderr", "", "print this text on stderr")
	sleep := flag.Duration("sleep", 0, "sleep this long before exiting")
	after := flag.String("after", "", "print this text on stdout after the sleep")
	exit := flag.Int("exit", 0, "exit with this code")
	allocMiB := flag.Int("alloc-mib", 0, "allocate and touch this many MiB")
	ignoreTerm := flag.Bool("ignore-term", false, "ignore SIGTERM")
	marker := flag.String("marker", "", "create this file when started (its content: the pid)")
	env := flag.Bool("env", false, "print the environment, sorted")
	wantEnv := flag.String("want-env-sha256", "", "NAME=HEX: exit 7 unless $NAME's SHA-256 is HEX (checks a secret arrived without printing it)")
	flag.Parse()

	if *wantEnv != "" {
		name, want, _ := strings.Cut(*wantEnv, "=")
		sum := sha256.Sum256([]byte(os.Getenv(name)))
		if hex.EncodeToString(sum[:]) != want {
			fmt.Printf("%s does not have the expected value\n", name)
			os.Exit(7)
		}
		fmt.Printf("%s has the expected value\n", name)
	}

	if *ignoreTerm {
		signal.Ignore(syscall.SIGTERM)
	}
	if *marker != "" {
		if err := os.WriteFile(*marker, []byte(fmt.Sprint(os.Getpid())), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "marker:", err)
			os.Exit(2)
		}
	}
	if *print != "" {
		fmt.Println(*print)
	}
	if *printErr != "" {
		fmt.Fprintln(os.Stderr, *printErr)
	}
	if *env {
		vars := os.Environ()
		sort.Strings(vars)
		for _, v := range vars {
			fmt.Println(v)
		}
	}
	if *allocMiB > 0 {
		var keep [][]byte
		for i := 0; i < *allocMiB; i++ {
			b := make([]byte, 1<<20)
			for j := range b {
				b[j] = byte(j)
			}
			keep = append(keep, b)
		}
		fmt.Println("allocated", len(keep), "MiB")
	}
	if *sleep > 0 {
		time.Sleep(*sleep)
	}
	if *after != "" {
		fmt.Println(*after)
	}
	os.Exit(*exit)
}
