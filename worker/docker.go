package worker

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/client"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/worker/guard"
)

var _ Runtime = (*DockerRuntime)(nil)

// DockerRuntime runs attempts as Docker containers named
// raftcron-<namespace>-<attempt>, labelled with the worker id and the attempt.
type DockerRuntime struct {
	cli      *client.Client
	workerID string
	logger   *slog.Logger
	// Options are the worker's limits for docker runs (zero: defaults).
	Options DockerOptions

	mu        sync.Mutex
	clusterID string

	// Pending SIGKILLs of Kill: Close cancels and waits for them.
	stopOnce sync.Once
	stop     chan struct{}
	wg       sync.WaitGroup
}

// NewDockerRuntime connects to the Docker daemon from the environment
// (DOCKER_HOST and friends), negotiating the API version, and checks that it
// answers.
func NewDockerRuntime(ctx context.Context, workerID string, logger *slog.Logger) (*DockerRuntime, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(pctx); err != nil {
		cli.Close()
		return nil, fmt.Errorf("docker daemon at %s does not answer: %w", cli.DaemonHost(), err)
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &DockerRuntime{cli: cli, workerID: workerID, logger: logger, stop: make(chan struct{})}, nil
}

// Close releases the client; SIGKILLs still due are not sent (the guards
// enforce the leases the kills cut short).
func (d *DockerRuntime) Close() error {
	d.stopOnce.Do(func() { close(d.stop) })
	d.wg.Wait()
	return d.cli.Close()
}

func (d *DockerRuntime) Name() string { return "docker" }

// ContainerName is the name an attempt's container gets:
// raftcron-<cluster id>-<namespace>-<attempt> (without the cluster id while
// the worker has not learned it), so that two clusters sharing a Docker
// host never name two containers alike.
func ContainerName(clusterID, namespace, attempt string) string {
	if clusterID == "" {
		return "raftcron-" + namespace + "-" + attempt
	}
	return "raftcron-" + clusterID + "-" + namespace + "-" + attempt
}

// SetClusterID scopes the names and labels of the containers this runtime
// creates, and those it lists as its own, by the cluster's id.
func (d *DockerRuntime) SetClusterID(id string) {
	d.mu.Lock()
	d.clusterID = id
	d.mu.Unlock()
}

func (d *DockerRuntime) cluster() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.clusterID
}

// owns says whether a container with these labels is this worker's: its
// worker label, and its cluster label unless it has none (made before
// clusters had ids).
func (d *DockerRuntime) owns(labels map[string]string) bool {
	if labels[LabelWorker] != d.workerID {
		return false
	}
	c, ok := labels[LabelCluster]
	return !ok || c == d.cluster()
}

// ensureImage makes the image present according to policy and returns its
// entrypoint and cmd.
func (d *DockerRuntime) ensureImage(ctx context.Context, ref, policy string) (*imageCommand, error) {
	insp, err := d.cli.ImageInspect(ctx, ref)
	present := err == nil
	if err != nil && !cerrdefs.IsNotFound(err) {
		return nil, fmt.Errorf("inspect image %q: %w", ref, err)
	}
	switch policy {
	case "Never":
		if !present {
			return nil, fmt.Errorf("image %q is not present on this worker and imagePullPolicy is Never: %w", ref, ErrRejected)
		}
		return commandOf(insp), nil
	case "", "IfNotPresent":
		if present {
			return commandOf(insp), nil
		}
	case "Always":
	default:
		return nil, fmt.Errorf("imagePullPolicy %q is not one of Always, IfNotPresent, Never: %w", policy, ErrRejected)
	}
	if err := d.pull(ctx, ref); err != nil {
		return nil, fmt.Errorf("image %q cannot be pulled (imagePullPolicy %s): %v: %w", ref, orDefault(policy, "IfNotPresent"), err, ErrRejected)
	}
	insp, err = d.cli.ImageInspect(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("inspect image %q after the pull: %w", ref, err)
	}
	return commandOf(insp), nil
}

// imageCommand is an image's default entrypoint and cmd.
type imageCommand struct {
	entry, cmd []string
	user       string
}

func commandOf(insp image.InspectResponse) *imageCommand {
	if insp.Config == nil {
		return &imageCommand{}
	}
	return &imageCommand{entry: insp.Config.Entrypoint, cmd: insp.Config.Cmd, user: insp.Config.User}
}

// commandLine is what the container runs, as Kubernetes reads command and
// args: command replaces the image's entrypoint (and drops its cmd), args
// replace the image's cmd.
func commandLine(spec *pb.RunSpec, img *imageCommand) []string {
	var entry, cmd []string
	if img != nil {
		entry, cmd = img.entry, img.cmd
	}
	if len(spec.GetCommand()) > 0 {
		entry, cmd = spec.GetCommand(), nil
	}
	if len(spec.GetArgs()) > 0 {
		cmd = spec.GetArgs()
	}
	return append(append([]string(nil), entry...), cmd...)
}

// guardEntrypoint is the container's entrypoint: the guard, which runs the
// command line given as the container's cmd.
func guardEntrypoint() []string {
	return []string{guard.Binary, "guard", "--dir", guard.Dir, "--lease", guard.LeaseDir + "/" + guard.LeaseFile, "--"}
}

func (d *DockerRuntime) pull(ctx context.Context, ref string) error {
	rc, err := d.cli.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return err
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	for {
		var msg struct {
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("read pull progress: %w", err)
		}
		if msg.Error != "" {
			return errors.New(msg.Error)
		}
	}
}

// DockerOptions bound what a docker run may take.
type DockerOptions struct {
	// PidsLimit caps the processes of one run (--docker-pids-limit).
	PidsLimit int64
	// Memory is the memory limit of a run whose Job sets none
	// (--docker-default-memory), in bytes.
	Memory int64
}

// Defaults of DockerOptions.
const (
	DefaultDockerPidsLimit = 1024
	DefaultDockerMemory    = 512 << 20
)

func (o DockerOptions) withDefaults() DockerOptions {
	if o.PidsLimit <= 0 {
		o.PidsLimit = DefaultDockerPidsLimit
	}
	if o.Memory <= 0 {
		o.Memory = DefaultDockerMemory
	}
	return o
}

// isRootUser reports whether an image's or a spec's user string names root.
func isRootUser(u string) bool {
	name, _, _ := strings.Cut(u, ":")
	return name == "" || name == "root" || name == "0"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (d *DockerRuntime) Start(ctx context.Context, t *Task) (string, error) {
	spec := t.Spec
	if spec.GetImage() == "" {
		return "", fmt.Errorf("run spec has no image: %w", ErrRejected)
	}
	if t.Guard == "" || t.Dir == "" {
		return "", fmt.Errorf("docker runtime: attempt %s has no guard binary or directory", t.Attempt.GetName())
	}
	img, err := d.ensureImage(ctx, spec.GetImage(), spec.GetImagePullPolicy())
	if err != nil {
		return "", err
	}
	argv := commandLine(spec, img)
	if len(argv) == 0 {
		return "", fmt.Errorf("image %q has no entrypoint or cmd, and the container gives no command: %w", spec.GetImage(), ErrRejected)
	}
	labels := map[string]string{}
	for k, v := range spec.GetLabels() {
		labels[k] = v
	}
	for k, v := range taskLabels(t) {
		labels[k] = v
	}
	cluster := d.cluster()
	if cluster != "" {
		labels[LabelCluster] = cluster
	}
	env := make([]string, 0, len(spec.GetEnv()))
	for k, v := range spec.GetEnv() {
		env = append(env, k+"="+v)
	}
	opts := d.Options.withDefaults()
	user := ""
	if spec.RunAsUser != nil {
		user = strconv.FormatInt(spec.GetRunAsUser(), 10)
		if spec.RunAsGroup != nil {
			user += ":" + strconv.FormatInt(spec.GetRunAsGroup(), 10)
		}
	}
	if spec.GetRunAsNonRoot() && isRootUser(orDefault(user, img.user)) {
		return "", fmt.Errorf("securityContext.runAsNonRoot: the container would run as root (image %q user %q; set runAsUser): %w",
			spec.GetImage(), img.user, ErrRejected)
	}
	cfg := &container.Config{
		Image:      spec.GetImage(),
		Entrypoint: guardEntrypoint(),
		Cmd:        argv,
		Env:        env,
		WorkingDir: spec.GetWorkingDir(),
		Labels:     labels,
		User:       user,
	}
	memory := spec.GetMemoryBytes()
	if memory <= 0 {
		memory = opts.Memory
	}
	pids := opts.PidsLimit
	host := &container.HostConfig{
		Privileged:     spec.GetPrivileged(),
		ReadonlyRootfs: spec.GetReadOnlyRootFilesystem(),
		CapAdd:         spec.GetCapAdd(),
		CapDrop:        spec.GetCapDrop(),
		Resources: container.Resources{
			NanoCPUs:  spec.GetCpuMillis() * 1_000_000,
			Memory:    memory,
			PidsLimit: &pids,
		},
	}
	host.Resources.MemorySwap = memory // no swap, so the OOM killer acts at the limit
	if !spec.GetAllowPrivilegeEscalation() {
		host.SecurityOpt = append(host.SecurityOpt, "no-new-privileges")
	}
	if spec.GetHostNetwork() {
		host.NetworkMode = "host"
	}
	if spec.GetHostPid() {
		host.PidMode = "host"
	}
	for _, m := range spec.GetMounts() {
		host.Mounts = append(host.Mounts, mount.Mount{Type: mount.TypeBind, Source: m.GetHostPath(), Target: m.GetContainerPath(), ReadOnly: m.GetReadOnly()})
	}
	// The guard: the static raftcron binary, the attempt's directory (its
	// record) and, read-only, its lease.
	host.Mounts = append(host.Mounts,
		mount.Mount{Type: mount.TypeBind, Source: t.Guard, Target: guard.Binary, ReadOnly: true},
		mount.Mount{Type: mount.TypeBind, Source: t.Dir, Target: guard.Dir},
		mount.Mount{Type: mount.TypeBind, Source: filepath.Join(t.Dir, guard.LeaseSubdir), Target: guard.LeaseDir, ReadOnly: true},
	)
	name := ContainerName(cluster, t.Attempt.GetNamespace(), t.Attempt.GetName())
	resp, err := d.cli.ContainerCreate(ctx, cfg, host, nil, nil, name)
	if cerrdefs.IsConflict(err) {
		// A leftover with the same name: replace it if it is this worker's
		// (an earlier incarnation it never reported, not current); never
		// touch a container that is not.
		insp, ierr := d.cli.ContainerInspect(ctx, name)
		if ierr != nil {
			return "", fmt.Errorf("create container %s: the name is taken, and inspecting the holder failed: %w", name, ierr)
		}
		var held map[string]string
		if insp.Config != nil {
			held = insp.Config.Labels
		}
		if !d.owns(held) {
			return "", fmt.Errorf("create container %s: the name is taken by container %.12s, which is not this worker's (worker %q, cluster %q); leaving it alone",
				name, insp.ID, held[LabelWorker], held[LabelCluster])
		}
		d.logger.Warn("removing leftover container with the same name", "container", name)
		if rerr := d.cli.ContainerRemove(ctx, insp.ID, container.RemoveOptions{Force: true}); rerr != nil {
			return "", fmt.Errorf("remove leftover container %s: %w", name, rerr)
		}
		resp, err = d.cli.ContainerCreate(ctx, cfg, host, nil, nil, name)
	}
	if err != nil {
		if cerrdefs.IsInvalidArgument(err) {
			return "", fmt.Errorf("create container %s: %v: %w", name, err, ErrRejected)
		}
		return "", fmt.Errorf("create container %s: %w", name, err)
	}
	if t.MayStart != nil {
		if err := t.MayStart(); err != nil {
			// Never started: nothing ran, nothing to keep.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if rerr := d.cli.ContainerRemove(rctx, resp.ID, container.RemoveOptions{Force: true}); rerr != nil && !cerrdefs.IsNotFound(rerr) {
				d.logger.Warn("remove container that was not started", "container", name, "err", rerr)
			}
			return "", err
		}
	}
	if err := d.cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		// The container exists and carries our labels; it is reported as
		// failed and removed like any other.
		return resp.ID, fmt.Errorf("start container %s: %v: %w", name, err, ErrRejected)
	}
	return resp.ID, nil
}

func taskLabels(t *Task) map[string]string {
	return map[string]string{
		LabelWorker:      t.WorkerID,
		LabelNamespace:   t.Attempt.GetNamespace(),
		LabelJob:         t.Job,
		LabelIndex:       strconv.Itoa(int(t.Index)),
		LabelAttempt:     t.Attempt.GetName(),
		LabelIncarnation: strconv.FormatUint(t.Attempt.GetIncarnation(), 10),
	}
}

func (d *DockerRuntime) Wait(ctx context.Context, id, logPath string) (ExitStatus, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return ExitStatus{}, fmt.Errorf("log directory: %w", err)
	}
	// The log file is rewritten from the start: after a worker restart the
	// daemon still has the whole output, and the time it received each line.
	lw, err := guard.OpenLog(logPath, MaxLogSize, true)
	if err != nil {
		return ExitStatus{}, fmt.Errorf("open log file: %w", err)
	}
	defer lw.Close()
	var tail outputTail
	lctx, cancelLogs := context.WithCancel(ctx)
	defer cancelLogs()
	logsDone := make(chan struct{})
	go func() {
		defer close(logsDone)
		rc, err := d.cli.ContainerLogs(lctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: true, Timestamps: true})
		if err != nil {
			d.logger.Warn("follow container output", "container", id, "err", err)
			return
		}
		defer rc.Close()
		err = copyDockerLogs(rc, func(p []byte, t time.Time) {
			tail.add(p)
			lw.WriteTime(p, t)
		})
		if err != nil && lctx.Err() == nil {
			d.logger.Warn("copy container output", "container", id, "err", err)
		}
	}()

	waitC, errC := d.cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case <-waitC:
	case err := <-errC:
		if ctx.Err() != nil {
			return ExitStatus{}, ctx.Err()
		}
		return ExitStatus{}, fmt.Errorf("wait for container %s: %w", id, err)
	}
	// The log stream ends when the container stops; give it a moment.
	t := time.NewTimer(5 * time.Second)
	select {
	case <-logsDone:
	case <-t.C:
		cancelLogs()
		<-logsDone
	}
	t.Stop()
	if err := lw.Err(); err != nil {
		d.logger.Warn("output of the container not kept whole", "container", id, "err", err)
	}
	if err := lw.Sync(); err != nil {
		return ExitStatus{}, fmt.Errorf("sync log file: %w", err)
	}
	insp, err := d.cli.ContainerInspect(ctx, id)
	if err != nil {
		return ExitStatus{}, fmt.Errorf("inspect container %s: %w", id, err)
	}
	st := exitFromState(insp.State)
	if st.ExitCode == 137 && !st.OOMKilled && insp.HostConfig != nil && insp.HostConfig.Memory > 0 {
		st = d.settleOOM(ctx, id, st, insp.HostConfig.Memory)
	}
	st.OutputTail = tail.String()
	return st, nil
}

// settleOOM decides whether a container SIGKILLed under a memory limit was
// OOM-killed. dockerd (20.10 on cgroup v2) can record the exit before the
// kernel's OOM event, leaving State.OOMKilled false; re-inspect for a moment,
// and since this worker did not send the SIGKILL (a kill it requested is
// reported as such by the agent), treat a SIGKILL at a memory limit as OOM.
func (d *DockerRuntime) settleOOM(ctx context.Context, id string, st ExitStatus, limit int64) ExitStatus {
	for i := 0; i < 5; i++ {
		t := time.NewTimer(200 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return st
		case <-t.C:
		}
		if insp, err := d.cli.ContainerInspect(ctx, id); err == nil && insp.State != nil && insp.State.OOMKilled {
			st.OOMKilled = true
			return st
		}
	}
	st.OOMKilled = true
	st.Message = fmt.Sprintf("SIGKILLed at its memory limit of %d MiB (the kernel's OOM killer)", limit>>20)
	return st
}

func exitFromState(s *container.State) ExitStatus {
	if s == nil {
		return ExitStatus{Unknown: true, Message: "container has no state"}
	}
	st := ExitStatus{ExitCode: int32(s.ExitCode), OOMKilled: s.OOMKilled}
	st.StartTime, _ = time.Parse(time.RFC3339Nano, s.StartedAt)
	st.FinishTime, _ = time.Parse(time.RFC3339Nano, s.FinishedAt)
	if s.Status == container.StateCreated || st.StartTime.IsZero() || st.StartTime.Year() < 2 {
		// Created and never started (the worker stopped in between):
		// the attempt never ran, whatever the exit code field says.
		return ExitStatus{NotStarted: true, Message: "the container was created but never started"}
	}
	if st.FinishTime.Year() < 2 {
		st.FinishTime = time.Time{}
	}
	if s.Error != "" {
		st.Message = s.Error
	}
	return st
}

func (d *DockerRuntime) Kill(ctx context.Context, id string, grace time.Duration) error {
	// SIGTERM reaches the guard (PID 1), which passes it to the workload;
	// SIGKILL ends PID 1 and with it the whole container.
	sig := "SIGTERM"
	if grace <= 0 {
		sig = "SIGKILL"
	}
	if err := d.signal(ctx, id, sig); err != nil || grace <= 0 {
		return err
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-d.stop:
			return
		case <-t.C:
		}
		kctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := d.signal(kctx, id, "SIGKILL"); err != nil {
			// The agent calls Kill again while the attempt runs.
			d.logger.Warn("SIGKILL container", "container", id, "err", err)
		}
	}()
	return nil
}

// signal sends sig to a container; one that is gone or not running needs none.
func (d *DockerRuntime) signal(ctx context.Context, id, sig string) error {
	err := d.cli.ContainerKill(ctx, id, sig)
	switch {
	case err == nil, cerrdefs.IsNotFound(err):
		return nil
	case cerrdefs.IsConflict(err):
		// "is not running": already ended (Wait reports it), or created
		// and never started.
		return nil
	}
	return fmt.Errorf("%s container %s: %w", sig, id, err)
}

func (d *DockerRuntime) Remove(ctx context.Context, id string) error {
	err := d.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	return nil
}

func (d *DockerRuntime) List(ctx context.Context) ([]Instance, error) {
	cs, err := d.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", LabelWorker+"="+d.workerID))})
	if err != nil {
		return nil, fmt.Errorf("list containers of worker %s: %w", d.workerID, err)
	}
	var out []Instance
	for _, c := range cs {
		if !d.owns(c.Labels) {
			continue // the same worker id in another cluster: not ours
		}
		ref, job, index, ok := refFromLabels(c.Labels)
		if !ok {
			d.logger.Warn("container without complete raftcron labels; leaving it alone", "container", c.ID, "names", strings.Join(c.Names, ","))
			continue
		}
		inst := Instance{ID: c.ID, Attempt: ref, Job: job, Index: index}
		insp, err := d.cli.ContainerInspect(ctx, c.ID)
		if err != nil {
			return nil, fmt.Errorf("inspect container %s: %w", c.ID, err)
		}
		if insp.State != nil && (insp.State.Running || insp.State.Paused || insp.State.Restarting) {
			inst.Running = true
			inst.StartTime, _ = time.Parse(time.RFC3339Nano, insp.State.StartedAt)
		} else {
			inst.Exit = exitFromState(insp.State)
			inst.StartTime = inst.Exit.StartTime
		}
		out = append(out, inst)
	}
	return out, nil
}

func refFromLabels(l map[string]string) (*pb.AttemptRef, string, int32, bool) {
	ns, name := l[LabelNamespace], l[LabelAttempt]
	inc, err := strconv.ParseUint(l[LabelIncarnation], 10, 64)
	if ns == "" || name == "" || err != nil {
		return nil, "", 0, false
	}
	idx, _ := strconv.Atoi(l[LabelIndex])
	return &pb.AttemptRef{Namespace: ns, Name: name, Incarnation: inc}, l[LabelJob], int32(idx), true
}

// copyDockerLogs reads a container's log stream, multiplexed (no TTY) and
// with timestamps, and passes each message with the time the daemon
// received it. Each frame is an 8-byte header (stream: 1 stdout, 2 stderr,
// 3 an error of the daemon; 3 bytes of padding; the payload's size, big
// endian) and a payload: one message (a line, or part of a long one),
// prefixed with its RFC 3339 time and a space.
func copyDockerLogs(r io.Reader, write func(p []byte, t time.Time)) error {
	var hdr [8]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		size := int(binary.BigEndian.Uint32(hdr[4:]))
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		if hdr[0] == 3 {
			return fmt.Errorf("docker daemon: %s", buf)
		}
		ts, msg, ok := bytes.Cut(buf, []byte{' '})
		t, err := time.Parse(time.RFC3339Nano, string(ts))
		if !ok || err != nil {
			// No time (a daemon that sends none): the time it arrived.
			msg, t = buf, time.Now()
		}
		write(msg, t)
	}
}
