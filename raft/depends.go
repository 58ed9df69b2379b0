package raft

import (
	"fmt"
	"slices"
	"strings"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// The dependency graph of CronJobs (spec.dependsOn, docs/pipelines.md) is
// checked where the whole state and the whole applied batch are seen: in
// Apply, so that two applies racing through different servers cannot make a
// cycle between them, and by the API before it proposes (dry runs).

// checkDependsOn checks the CronJobs of one ApplyResources against the
// CronJobs stored (lookup: the upstream names of a stored CronJob, and
// whether it exists) as they will be once the batch is applied: every
// upstream exists in the CronJob's namespace (stored or in the batch), and
// no CronJob depends on itself through any chain. The error names the
// CronJob and field, and the cycle as "a → b → c → a". Stored CronJobs are
// looked at through their upstream names only, so no spec is decoded.
func checkDependsOn(lookup func(k nsName) (deps []string, ok bool), batch []*pb.CronJob) error {
	applied := map[nsName][]string{}
	for _, cj := range batch {
		var deps []string
		for _, d := range cj.GetSpec().GetDependsOn() {
			deps = append(deps, d.GetCronJob())
		}
		applied[nsName{nsOrDefault(cj.GetMetadata().GetNamespace()), cj.GetMetadata().GetName()}] = deps
	}
	get := func(k nsName) ([]string, bool) {
		if deps, ok := applied[k]; ok {
			return deps, true
		}
		return lookup(k)
	}
	for _, cj := range batch {
		ns := nsOrDefault(cj.GetMetadata().GetNamespace())
		for i, d := range cj.GetSpec().GetDependsOn() {
			if _, ok := get(nsName{ns, d.GetCronJob()}); !ok {
				return fmt.Errorf("CronJob %q is invalid: spec.dependsOn[%d].cronJob: cronjob %q not found in namespace %q; apply it first or in the same manifest",
					cj.GetMetadata().GetName(), i, d.GetCronJob(), ns)
			}
		}
	}
	// Depth-first search from each applied CronJob; a cycle made by this
	// batch runs through one of them.
	const (
		unseen = iota
		onPath
		done
	)
	mark := map[nsName]int{}
	var path []string
	var visit func(k nsName) error
	visit = func(k nsName) error {
		switch mark[k] {
		case done:
			return nil
		case onPath:
			from := slices.Index(path, k.name)
			cycle := append(slices.Clone(path[from:]), k.name)
			return fmt.Errorf("CronJob %q is invalid: spec.dependsOn: a dependency cycle in namespace %q: %s",
				cycle[0], k.ns, strings.Join(cycle, " → "))
		}
		mark[k] = onPath
		path = append(path, k.name)
		deps, _ := get(k)
		for _, name := range deps {
			up := nsName{k.ns, name}
			if _, ok := get(up); !ok {
				continue // a stored CronJob's upstream deleted meanwhile: not a cycle
			}
			if err := visit(up); err != nil {
				return err
			}
		}
		path = path[:len(path)-1]
		mark[k] = done
		return nil
	}
	keys := make([]nsName, 0, len(applied))
	for k := range applied {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b nsName) int {
		if c := strings.Compare(a.ns, b.ns); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	for _, k := range keys {
		if err := visit(k); err != nil {
			return err
		}
	}
	return nil
}

// storedDeps is checkDependsOn's lookup over the stored CronJobs.
func (t *tables) storedDeps(k nsName) ([]string, bool) {
	cj, ok := t.cronJobs[k]
	if !ok {
		return nil, false
	}
	return cj.deps, true
}

// downstreamsOf lists (sorted) the CronJobs of a namespace whose
// spec.dependsOn names the CronJob, from the dependents index.
func (t *tables) downstreamsOf(k nsName) []string {
	var out []string
	for name := range t.dependents[k] {
		if name != k.name {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// indexDeps moves a CronJob's entries in the dependents index from the
// upstreams old names to those n names (either may be nil).
func (t *tables) indexDeps(k nsName, old, n *storedCronJob) {
	if old != nil {
		for _, up := range old.deps {
			removeFromSet(t.dependents, nsName{k.ns, up}, k.name)
		}
	}
	if n != nil {
		for _, up := range n.deps {
			addToSet(t.dependents, nsName{k.ns, up}, k.name)
		}
	}
}

// CheckDependsOn checks CronJobs about to be applied against the stored
// ones, as Apply will (see checkDependsOn): for the API's dry runs and its
// early answer.
func (s *State) CheckDependsOn(batch []*pb.CronJob) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return checkDependsOn(s.t.storedDeps, batch)
}
