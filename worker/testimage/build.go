// Package testimage builds the raftcron/testtask:dev image (worker/testtask,
// a static binary FROM scratch) through the Docker API, with no registry.
// Tests of the worker and the integration tests use it.
package testimage

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/client"
)

// Image is the tag Build produces.
const Image = "raftcron/testtask:dev"

var (
	once     sync.Once
	buildErr error
)

// Build compiles worker/testtask (CGO_ENABLED=0) and builds Image from it.
// Within one process it builds once.
func Build(ctx context.Context) (string, error) {
	once.Do(func() { buildErr = build1(ctx) })
	return Image, buildErr
}

// BinaryPath compiles worker/testtask for this host into dir and returns the
// binary's path (for the exec runtime's tests).
func BinaryPath(ctx context.Context, dir string) (string, error) {
	src, err := sourceDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "testtask")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build testtask: %v: %s", err, out)
	}
	return bin, nil
}

// GuardBinary compiles cmd/raftcron-guard statically (CGO_ENABLED=0) into
// dir and returns the binary's path: the lease guard the worker's tests run
// attempts under.
func GuardBinary(ctx context.Context, dir string) (string, error) {
	src, err := sourceDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "raftcron-guard")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/raftcron-guard")
	cmd.Dir = filepath.Join(src, "..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build raftcron-guard: %v: %s", err, out)
	}
	return bin, nil
}

func sourceDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("testimage: cannot find its own source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "testtask"), nil
}

func build1(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "raftcron-testtask-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	src, err := sourceDir()
	if err != nil {
		return err
	}
	bin := filepath.Join(dir, "testtask")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build testtask: %v: %s", err, out)
	}
	binBytes, err := os.ReadFile(bin)
	if err != nil {
		return fmt.Errorf("read testtask binary: %w", err)
	}
	dockerfile := []byte("FROM scratch\nCOPY testtask /testtask\nENTRYPOINT [\"/testtask\"]\n")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, dockerfile}, {"testtask", 0o755, binBytes}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: now}); err != nil {
			return fmt.Errorf("tar build context: %w", err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return fmt.Errorf("tar build context: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("tar build context: %w", err)
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return fmt.Errorf("docker client: %w", err)
	}
	defer cli.Close()
	resp, err := cli.ImageBuild(ctx, &buf, build.ImageBuildOptions{Tags: []string{Image}, Dockerfile: "Dockerfile", Remove: true, ForceRemove: true})
	if err != nil {
		return fmt.Errorf("build image %s: %w", Image, err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var msg struct {
			Error  string `json:"error"`
			Stream string `json:"stream"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("build image %s: read progress: %w", Image, err)
		}
		if msg.Error != "" {
			return fmt.Errorf("build image %s: %s", Image, msg.Error)
		}
	}
	if _, err := cli.ImageInspect(ctx, Image); err != nil {
		return fmt.Errorf("build image %s: not present after the build: %w", Image, err)
	}
	return nil
}
