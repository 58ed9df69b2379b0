package client

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/raftcron/raftcron/scheduler"
)

// FuzzValidateManifests: no input panics the manifest decoder or the
// validation and limits the server runs next; every refusal is a
// ManifestError or a validation error, never anything else.
// (FuzzDecodeManifests, in manifest_test.go, checks the round trip.)
func FuzzValidateManifests(f *testing.F) {
	paths, _ := filepath.Glob("../examples/*.yaml")
	td, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range append(paths, td...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(secretManifest))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [{apiVersion: batch/v1, kind: Job}]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"spec\":{\"schedule\":\"@every 1s\"}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, _, err := DecodeManifests(bytes.NewReader(data), DecodeOptions{})
		if err != nil {
			var me *ManifestError
			if !errors.As(err, &me) || !errors.Is(err, scheduler.ErrInvalid) {
				t.Fatalf("decode error is not a ManifestError: %T %v", err, err)
			}
			return
		}
		if err := scheduler.PrepareResources(res); err != nil {
			if !errors.Is(err, scheduler.ErrInvalid) {
				t.Fatalf("validation error is not ErrInvalid: %v", err)
			}
			return
		}
		_ = scheduler.CheckLimits(res, scheduler.Limits{}, noObjects{})
		for _, r := range res {
			if _, err := EncodeManifest(r, "yaml"); err != nil {
				t.Fatalf("a valid resource does not encode: %v", err)
			}
		}
	})
}

// noObjects is an empty namespace for CheckLimits.
type noObjects struct{}

func (noObjects) CountIn(string, string) int         { return 0 }
func (noObjects) Exists(string, string, string) bool { return false }
