package scheduler

import (
	"fmt"
	"sort"
	"strings"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Labels every worker has in addition to its own, so that a nodeSelector can
// name a host or a runtime without the operator labelling workers by hand.
// A worker's own label of the same key wins (a worker refuses a runtime
// label that is not its runtime).
const (
	LabelHostname = "kubernetes.io/hostname" // the worker id
	LabelRuntime  = "raftcron.io/runtime"    // docker | exec
)

// PendingKey is the key of an attempt in the reasons ReconcileJobs returns
// for Pending attempts: "namespace/name" (attempt names are unique only
// within a namespace).
func PendingKey(namespace, name string) string { return namespace + "/" + name }

// placeAttempts assigns Pending attempts to workers and explains those it
// cannot place (keyed by PendingKey).
//
// Order: oldest attempt first (created time, then namespace, Job, index,
// number). A worker is eligible when it runs the Job's runtime (runtimeOf),
// its labels match the Job template's nodeSelector and it has a free slot (slots minus its Assigned and Running
// attempts, counting assignments made earlier in this call). Among eligible
// workers the least loaded wins, ties by id, so attempts spread out.
//
// An attempt pinned by restartPolicy OnFailure goes only to its worker while
// that worker is connected; once it is not, the attempt may run anywhere, so a
// retry is never stranded by a worker that is gone for good.
//
// Jobs of a CronJob with concurrencyPolicy Forbid or Replace are gated: no
// attempt of such a Job is assigned while another Job of the same CronJob has
// an attempt Assigned or Running (or assigned earlier in this call).
//
// pending says, per Job, why each Pending attempt ("namespace/name") waits;
// wake says, per Job, when the backoff of one of its attempts ends.
func placeAttempts(v View, workers []WorkerInfo, reqs []placeRequest, now time.Time) (cmds []*pb.Command, pending map[Ref]map[string]string, wake map[Ref]time.Time) {
	pending = map[Ref]map[string]string{}
	wake = map[Ref]time.Time{}
	if len(reqs) == 0 {
		return nil, pending, wake
	}
	ws := append([]WorkerInfo(nil), workers...)
	sort.Slice(ws, func(i, j int) bool { return ws[i].ID < ws[j].ID })
	byID := make(map[string]*WorkerInfo, len(ws))
	for i := range ws {
		byID[ws[i].ID] = &ws[i]
	}
	used := make(map[string]int, len(ws))
	for _, w := range ws {
		for _, a := range v.AttemptsOnWorker(w.ID) {
			if a.OnWorker() {
				used[w.ID]++
			}
		}
	}

	sort.SliceStable(reqs, func(i, j int) bool { return lessCreated(reqs[i].attempt, reqs[j].attempt) })
	g := newCronGate(v)
	for _, r := range reqs {
		a := r.attempt
		ref := Ref{r.job.GetMetadata().GetNamespace(), r.job.GetMetadata().GetName()}
		key := PendingKey(a.GetNamespace(), a.GetName())
		wait := func(reason string) {
			if pending[ref] == nil {
				pending[ref] = map[string]string{}
			}
			pending[ref][key] = reason
		}
		if nb := a.GetNotBefore(); nb != nil && now.Before(nb.AsTime()) {
			wait("backoff until " + nb.AsTime().UTC().Format("15:04:05"))
			wake[ref] = earliest(wake[ref], nb.AsTime())
			continue
		}
		if why := g.blocked(r.job); why != "" {
			wait(why)
			continue
		}
		if len(ws) == 0 {
			wait("no connected worker")
			continue
		}
		var candidates []*WorkerInfo
		pinned := byID[a.GetPinnedWorker()]
		selector := r.job.GetSpec().GetTemplate().GetSpec().GetNodeSelector()
		if pinned != nil {
			candidates = []*WorkerInfo{pinned}
		} else {
			runtime := runtimeOf(selector)
			for i := range ws {
				if workerRuntime(&ws[i]) == runtime && matchesSelector(&ws[i], selector) {
					candidates = append(candidates, &ws[i])
				}
			}
			if len(candidates) == 0 {
				wait(noMatch(ws, selector, runtime))
				continue
			}
		}
		var best *WorkerInfo
		for _, w := range candidates {
			if used[w.ID] >= w.Slots {
				continue
			}
			if best == nil || used[w.ID] < used[best.ID] {
				best = w // candidates are in id order, so ties keep the lower id
			}
		}
		if best == nil {
			switch {
			case pinned != nil:
				wait(fmt.Sprintf("waiting for a free slot on worker %s (%d/%d used), where restartPolicy OnFailure keeps the retry",
					pinned.ID, used[pinned.ID], max(pinned.Slots, 0)))
			case len(candidates) == 1:
				wait(fmt.Sprintf("the only matching worker %s is full (%d/%d slots used)",
					candidates[0].ID, used[candidates[0].ID], max(candidates[0].Slots, 0)))
			default:
				wait(fmt.Sprintf("all %d matching workers are full", len(candidates)))
			}
			continue
		}
		used[best.ID]++
		g.assigned(r.job)
		cmds = append(cmds, &pb.Command{Op: &pb.Command_AssignAttempt{AssignAttempt: &pb.AssignAttempt{
			Namespace: a.GetNamespace(),
			Name:      a.GetName(),
			Worker:    best.ID,
			Now:       timestamppb.New(now),
		}}})
	}
	return cmds, pending, wake
}

// Runtimes of workers, as the label LabelRuntime names them.
const (
	RuntimeDocker = "docker"
	RuntimeExec   = "exec"
)

// runtimeOf is the runtime a Job runs on: exec only when its nodeSelector
// selects raftcron.io/runtime: exec, a container runtime otherwise. A Job
// never runs on a runtime it did not ask for: a container Job on an exec
// worker would run its command as a plain process on the host.
func runtimeOf(selector map[string]string) string {
	if selector[LabelRuntime] == RuntimeExec {
		return RuntimeExec
	}
	return RuntimeDocker
}

// workerRuntime is the kind of runtime a worker has: exec, or docker for
// every container runtime.
func workerRuntime(w *WorkerInfo) string {
	if w.Runtime == RuntimeExec {
		return RuntimeExec
	}
	return RuntimeDocker
}

// noMatch says why no worker can take an attempt with this selector.
func noMatch(ws []WorkerInfo, selector map[string]string, runtime string) string {
	n := 0
	for i := range ws {
		if workerRuntime(&ws[i]) == runtime {
			n++
		}
	}
	switch {
	case n == 0 && runtime == RuntimeExec:
		return "no connected worker runs the exec runtime (nodeSelector raftcron.io/runtime=exec)"
	case n == 0:
		return "no connected worker runs containers; exec workers take only Jobs whose nodeSelector selects raftcron.io/runtime: exec"
	case runtime == RuntimeExec:
		return "no exec worker matches nodeSelector " + formatSelector(selector)
	}
	return "no worker matches nodeSelector " + formatSelector(selector)
}

func matchesSelector(w *WorkerInfo, selector map[string]string) bool {
	for k, want := range selector {
		got, ok := w.Labels[k]
		if !ok {
			switch k {
			case LabelHostname:
				got, ok = w.ID, true
			case LabelRuntime:
				got, ok = w.Runtime, true
			}
		}
		if !ok || got != want {
			return false
		}
	}
	return true
}

// formatSelector writes a nodeSelector as "disk=ssd,zone=a".
func formatSelector(sel map[string]string) string {
	parts := make([]string, 0, len(sel))
	for k, v := range sel {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// cronGate enforces concurrencyPolicy Forbid and Replace at assignment time.
type cronGate struct {
	v View
	// placed maps a CronJob key to its Jobs that have an attempt Assigned or
	// Running, in the order of JobsOfCronJob; filled lazily, then extended
	// by the assignments made in this call.
	placed map[string][]string
}

func newCronGate(v View) *cronGate { return &cronGate{v: v, placed: map[string][]string{}} }

func cronKey(ns, name string) string { return ns + "/" + name }

// blocked says why an attempt of job may not be assigned now, or "".
func (g *cronGate) blocked(job *pb.Job) string {
	cron := job.GetStatus().GetCronJob()
	if cron == "" {
		return ""
	}
	ns, name := job.GetMetadata().GetNamespace(), job.GetMetadata().GetName()
	policy := g.v.CronJob(ns, cron).GetSpec().GetConcurrencyPolicy()
	if policy != ConcurrencyForbid && policy != ConcurrencyReplace {
		return ""
	}
	for _, other := range g.placedJobs(ns, cron) {
		if other == name {
			continue
		}
		if policy == ConcurrencyReplace {
			return fmt.Sprintf("waiting for Job %s of CronJob %s to stop (concurrencyPolicy Replace)", other, cron)
		}
		return fmt.Sprintf("waiting for Job %s of CronJob %s to finish (concurrencyPolicy Forbid)", other, cron)
	}
	return ""
}

func (g *cronGate) placedJobs(ns, cron string) []string {
	key := cronKey(ns, cron)
	names, ok := g.placed[key]
	if !ok {
		names = []string{}
		for _, j := range g.v.JobsOfCronJob(ns, cron) {
			if hasPlacedAttempt(g.v, j) {
				names = append(names, j.GetMetadata().GetName())
			}
		}
		g.placed[key] = names
	}
	return names
}

// assigned records that an attempt of job was assigned in this call (for
// the policies blocked looks at: under Allow nothing is recorded, and the
// CronJob's Jobs are not read).
func (g *cronGate) assigned(job *pb.Job) {
	cron := job.GetStatus().GetCronJob()
	if cron == "" {
		return
	}
	ns, name := job.GetMetadata().GetNamespace(), job.GetMetadata().GetName()
	if p := g.v.CronJob(ns, cron).GetSpec().GetConcurrencyPolicy(); p != ConcurrencyForbid && p != ConcurrencyReplace {
		return
	}
	names := g.placedJobs(ns, cron)
	for _, n := range names {
		if n == name {
			return
		}
	}
	g.placed[cronKey(ns, cron)] = append(names, name)
}

func hasPlacedAttempt(v View, job *pb.Job) bool {
	for _, a := range v.Attempts(job.GetMetadata().GetNamespace(), job.GetMetadata().GetName()) {
		if a.GetState() == pb.AttemptAssigned || a.GetState() == pb.AttemptRunning {
			return true
		}
	}
	return false
}
