package guard

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// timedLine is one line of a log with the time its times file gives it.
type timedLine struct {
	text string
	time int64 // Unix nanoseconds; 0: none known
}

// readTimedLines reads a log and its times file as a reader of both does:
// each line takes the time of the last mark at or before its first byte.
func readTimedLines(t *testing.T, path string) []timedLine {
	t.Helper()
	log, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(TimesPath(path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	marks, err := NewMarkReader(f).Read()
	if err != nil {
		t.Fatal(err)
	}
	var out []timedLine
	var cur int64
	for off := 0; off < len(log); {
		for len(marks) > 0 && marks[0].Offset <= int64(off) {
			cur, marks = marks[0].Time, marks[1:]
		}
		end := bytes.IndexByte(log[off:], '\n')
		if end < 0 {
			end = len(log)
		} else {
			end += off + 1
		}
		out = append(out, timedLine{string(log[off:end]), cur})
		off = end
	}
	if len(marks) > 0 {
		t.Errorf("marks past the end of the log (%d bytes): %v", len(log), marks)
	}
	return out
}

func assertTimedLines(t *testing.T, got, want []timedLine) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("lines = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %q at %d, want %q at %d", i, got[i].text, got[i].time, want[i].text, want[i].time)
		}
	}
}

// TestLogWriterTimesEachLine: every line gets the time of the write that
// started it: several lines in one write share it, a line finished by a
// later write keeps its start's, a last line without a newline has one,
// output past the limit is dropped with a note (timed when the limit was
// hit), and the guard's notes are timed and not capped.
func TestLogWriterTimesEachLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.log")
	w, err := OpenLog(path, 24, true)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	ns := func(d time.Duration) int64 { return t0.Add(d).UnixNano() }
	w.WriteTime([]byte("one\ntwo\nth"), at(0))          // 10 bytes
	w.WriteTime([]byte("ree\n"), at(time.Second))       // 14: finishes "three"
	w.WriteTime([]byte("four\nfi"), at(2*time.Second))  // 21: "fi" is a partial line
	w.WriteTime([]byte("ve\nsix\n"), at(3*time.Second)) // 24 is the limit: "ve\n" kept, "six\n" dropped
	w.WriteTime([]byte("seven\n"), at(4*time.Second))   // dropped, no second note
	w.now = func() time.Time { return at(5 * time.Second) }
	if _, err := w.Notes().Write([]byte("[raftcron guard] lease ran out\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	assertTimedLines(t, readTimedLines(t, path), []timedLine{
		{"one\n", ns(0)},
		{"two\n", ns(0)},
		{"three\n", ns(0)},
		{"four\n", ns(2 * time.Second)},
		{"five\n", ns(2 * time.Second)},
		{"\n", ns(3 * time.Second)},
		{"[raftcron: output truncated at 24 bytes]\n", ns(3 * time.Second)},
		{"[raftcron guard] lease ran out\n", ns(5 * time.Second)},
	})

	// A last line without a newline has its time; appending (the guard
	// after its own first messages) continues the log's offsets and lines.
	path = filepath.Join(t.TempDir(), "b.log")
	if err := os.WriteFile(path, []byte("early\npart"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err = OpenLog(path, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteTime([]byte("ial\nlast"), at(time.Minute))
	w.Close()
	assertTimedLines(t, readTimedLines(t, path), []timedLine{
		{"early\n", 0}, {"partial\n", 0}, {"last", ns(time.Minute)},
	})
}

// TestMarkReaderFollowsAGrowingFile: a mark half written is returned once
// complete; a file of another format gives an error, not marks.
func TestMarkReaderFollowsAGrowingFile(t *testing.T) {
	var file bytes.Buffer
	mr := NewMarkReader(&file)
	file.WriteString(timesMagic[:5])
	if m, err := mr.Read(); len(m) != 0 || err != nil {
		t.Fatalf("half a header: %v, %v", m, err)
	}
	file.WriteString(timesMagic[5:])
	enc := appendMark(nil, Mark{}, Mark{Offset: 0, Time: 1e18})
	enc = appendMark(enc, Mark{Offset: 0, Time: 1e18}, Mark{Offset: 300, Time: 1e18 - 5})
	file.Write(enc[:len(enc)-1])
	if m, err := mr.Read(); err != nil || len(m) != 1 || m[0] != (Mark{0, 1e18}) {
		t.Fatalf("one and a half marks: %v, %v", m, err)
	}
	file.Write(enc[len(enc)-1:])
	if m, err := mr.Read(); err != nil || len(m) != 1 || m[0] != (Mark{300, 1e18 - 5}) {
		t.Fatalf("the second mark, completed: %v, %v", m, err)
	}
	if _, err := NewMarkReader(strings.NewReader("some other file\n")).Read(); err == nil {
		t.Error("a file of another format read without an error")
	}
}

// TestGuardRecordsLineTimes: the guard times each line of its workload's
// output as it copies it: lines written 300ms apart are 300ms apart in the
// times file, the partial last line included, and past --output-limit the
// output is cut with a note.
func TestGuardRecordsLineTimes(t *testing.T) {
	dir := t.TempDir()
	lease(t, dir, time.Minute, time.Second)
	out := filepath.Join(dir, "out.log")
	before := time.Now()
	g := startGuardFlags(t, dir, []string{"--output", out, "--output-limit", "20"},
		"sh", "-c", "echo one; sleep 0.3; printf 'two\\nthr'; sleep 0.3; printf 'ee\\nfour'; sleep 0.3; printf '0123456789\\n'")
	if code := g.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("guard exit code %d (stderr %s)", code, g.stderr)
	}
	after := time.Now()
	lines := readTimedLines(t, out)
	var text []string
	for _, l := range lines {
		text = append(text, l.text)
	}
	if want := []string{"one\n", "two\n", "three\n", "four01\n", "[raftcron: output truncated at 20 bytes]\n"}; strings.Join(text, "|") != strings.Join(want, "|") {
		t.Fatalf("log lines = %q, want %q", text, want)
	}
	at := func(i int) time.Time { return time.Unix(0, lines[i].time) }
	if at(0).Before(before) || at(len(lines)-1).After(after) {
		t.Errorf("line times %v .. %v outside the run %v .. %v", at(0), at(len(lines)-1), before, after)
	}
	// Each line is timed by its first byte: "thr" came with "two".
	for i, want := range []time.Duration{300 * time.Millisecond, 0, 300 * time.Millisecond, 300 * time.Millisecond} {
		if d := at(i + 1).Sub(at(i)); d < want || d > want+250*time.Millisecond {
			t.Errorf("line %d came %v after line %d, want about %v", i+1, d, i, want)
		}
	}
}
