package client

import (
	"context"
	"fmt"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// ListOptions narrows a List.
type ListOptions struct {
	// Namespace to list; "" is DefaultNamespace. Ignored with AllNamespaces.
	Namespace     string
	AllNamespaces bool
	// LabelSelector keeps the objects whose labels match, in Kubernetes'
	// syntax: "app=web,tier!=db,env in (prod,staging),!legacy".
	LabelSelector string
	// CronJob (Jobs only) keeps the Jobs made by this CronJob.
	CronJob string
}

// request builds the List request of kind and the selector that filters its answer.
func (o ListOptions) request(kind string) (*pb.ListRequest, Selector, error) {
	sel, err := ParseSelector(o.LabelSelector)
	if err != nil {
		return nil, nil, fmt.Errorf("list %ss: %w", kind, err)
	}
	ns := o.Namespace
	if ns == "" && !o.AllNamespaces {
		ns = DefaultNamespace
	}
	return &pb.ListRequest{Kind: kind, Namespace: ns, AllNamespaces: o.AllNamespaces, CronJob: o.CronJob}, sel, nil
}

func orDefault(namespace string) string {
	if namespace == "" {
		return DefaultNamespace
	}
	return namespace
}

// CronJobsAPI is the group of calls on CronJobs (Client.CronJobs). In every
// call, namespace "" is DefaultNamespace.
type CronJobsAPI struct{ c *Client }

// CronJobs is the group of calls on CronJobs.
func (c *Client) CronJobs() *CronJobsAPI { return &CronJobsAPI{c} }

// Get reads one CronJob; an unknown name is an error matching ErrNotFound.
func (a *CronJobsAPI) Get(ctx context.Context, namespace, name string) (*CronJob, error) {
	return a.c.GetCronJob(ctx, orDefault(namespace), name)
}

// List lists CronJobs.
func (a *CronJobsAPI) List(ctx context.Context, opts ListOptions) ([]*CronJob, error) {
	req, sel, err := opts.request(KindCronJob)
	if err != nil {
		return nil, err
	}
	items, err := a.c.list(ctx, req)
	if err != nil {
		return nil, err
	}
	var out []*CronJob
	for _, it := range items {
		if cj := it.GetCronJob(); cj != nil && sel.Matches(cj.GetMetadata().GetLabels()) {
			out = append(out, cj)
		}
	}
	return out, nil
}

// Apply creates the CronJob or updates the one of that name. An invalid
// CronJob is an error matching ErrInvalid whose text names each field and
// its problem; nothing is written then.
func (a *CronJobsAPI) Apply(ctx context.Context, cj *CronJob) (*ApplyResult, error) {
	return a.c.applyOne(ctx, CronJobResource(cj), false)
}

// DryRun validates cj and says what Apply would do, writing nothing.
func (a *CronJobsAPI) DryRun(ctx context.Context, cj *CronJob) (*ApplyResult, error) {
	return a.c.applyOne(ctx, CronJobResource(cj), true)
}

// Delete deletes a CronJob.
func (a *CronJobsAPI) Delete(ctx context.Context, namespace, name string) error {
	return a.c.Delete(ctx, KindCronJob, orDefault(namespace), name)
}

// Suspend stops a CronJob's ticks from running (each is recorded as a skip).
func (a *CronJobsAPI) Suspend(ctx context.Context, namespace, name string) error {
	return a.c.SetSuspend(ctx, KindCronJob, orDefault(namespace), name, true)
}

// Resume lets a suspended CronJob run again from its next tick.
func (a *CronJobsAPI) Resume(ctx context.Context, namespace, name string) error {
	return a.c.SetSuspend(ctx, KindCronJob, orDefault(namespace), name, false)
}

// TriggerOptions tunes Trigger.
type TriggerOptions struct {
	// JobName names the new Job (default <cronjob>-manual-<unix seconds>).
	JobName string
	// WithUpstreams runs the CronJob's upstreams first (see
	// Client.TriggerWithUpstreams).
	WithUpstreams bool
}

// Trigger runs the CronJob's template now, outside its schedule, and
// returns the new Job. It is safe to retry: one call makes one Job.
func (a *CronJobsAPI) Trigger(ctx context.Context, namespace, name string, opts TriggerOptions) (*Job, error) {
	if opts.WithUpstreams {
		return a.c.TriggerWithUpstreams(ctx, orDefault(namespace), name, opts.JobName)
	}
	return a.c.Trigger(ctx, orDefault(namespace), name, opts.JobName)
}

// JobsAPI is the group of calls on Jobs (Client.Jobs). In every call,
// namespace "" is DefaultNamespace.
type JobsAPI struct{ c *Client }

// Jobs is the group of calls on Jobs.
func (c *Client) Jobs() *JobsAPI { return &JobsAPI{c} }

// Get reads one Job. Its Status.Result says how a finished Job ended.
func (a *JobsAPI) Get(ctx context.Context, namespace, name string) (*Job, error) {
	return a.c.GetJob(ctx, orDefault(namespace), name)
}

// List lists Jobs (with opts.CronJob, those of one CronJob).
func (a *JobsAPI) List(ctx context.Context, opts ListOptions) ([]*Job, error) {
	req, sel, err := opts.request(KindJob)
	if err != nil {
		return nil, err
	}
	items, err := a.c.list(ctx, req)
	if err != nil {
		return nil, err
	}
	var out []*Job
	for _, it := range items {
		if j := it.GetJob(); j != nil && sel.Matches(j.GetMetadata().GetLabels()) {
			out = append(out, j)
		}
	}
	return out, nil
}

// Apply creates a Job (a Job's spec cannot change once it exists, except suspend).
func (a *JobsAPI) Apply(ctx context.Context, job *Job) (*ApplyResult, error) {
	return a.c.applyOne(ctx, JobResource(job), false)
}

// Delete deletes a Job; its running attempts are killed.
func (a *JobsAPI) Delete(ctx context.Context, namespace, name string) error {
	return a.c.Delete(ctx, KindJob, orDefault(namespace), name)
}

// Suspend stops a Job's attempts and starts no more until it is resumed.
func (a *JobsAPI) Suspend(ctx context.Context, namespace, name string) error {
	return a.c.SetSuspend(ctx, KindJob, orDefault(namespace), name, true)
}

// Resume lets a suspended Job run again.
func (a *JobsAPI) Resume(ctx context.Context, namespace, name string) error {
	return a.c.SetSuspend(ctx, KindJob, orDefault(namespace), name, false)
}

// Wait waits until the Job's condition (ConditionComplete, ConditionFailed
// or ConditionSuspended) holds and returns the Job. Waiting for Complete
// ends with an error matching ErrJobFailed when the Job fails instead (the
// Job is returned too, so its Status.Result says why).
func (a *JobsAPI) Wait(ctx context.Context, namespace, name, condition string) (*Job, error) {
	return a.c.WaitJob(ctx, orDefault(namespace), name, condition)
}

// Attempts lists the Job's attempts.
func (a *JobsAPI) Attempts(ctx context.Context, namespace, name string) ([]*Attempt, error) {
	return a.c.ListAttempts(ctx, orDefault(namespace), name)
}

// AttemptsAPI is the group of calls on attempts (Client.Attempts).
type AttemptsAPI struct{ c *Client }

// Attempts is the group of calls on attempts.
func (c *Client) Attempts() *AttemptsAPI { return &AttemptsAPI{c} }

// List lists the attempts of a Job; job "" lists every attempt of the namespace.
func (a *AttemptsAPI) List(ctx context.Context, namespace, job string) ([]*Attempt, error) {
	return a.c.ListAttempts(ctx, orDefault(namespace), job)
}

// WorkersAPI is the group of calls on workers (Client.Workers).
type WorkersAPI struct{ c *Client }

// Workers is the group of calls on workers.
func (c *Client) Workers() *WorkersAPI { return &WorkersAPI{c} }

// List lists the workers the cluster knows, Ready and Lost, keeping those
// whose labels match selector ("" keeps every one).
func (a *WorkersAPI) List(ctx context.Context, selector string) ([]*Worker, error) {
	return a.list(ctx, "", selector)
}

// ListLost lists the lost workers the leader still remembers (for the
// cluster setting lostWorkerRetention), keeping those whose labels match selector.
func (a *WorkersAPI) ListLost(ctx context.Context, selector string) ([]*Worker, error) {
	return a.list(ctx, pb.WorkerLost, selector)
}

// Delete forgets a lost worker (see Client.DeleteWorker).
func (a *WorkersAPI) Delete(ctx context.Context, id string) error { return a.c.DeleteWorker(ctx, id) }

func (a *WorkersAPI) list(ctx context.Context, state, selector string) ([]*Worker, error) {
	sel, err := ParseSelector(selector)
	if err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	all, err := a.c.ListWorkersInState(ctx, state)
	if err != nil {
		return nil, err
	}
	var out []*Worker
	for _, w := range all {
		if sel.Matches(w.GetLabels()) {
			out = append(out, w)
		}
	}
	return out, nil
}

// ClusterAPI is the group of calls on the cluster itself (Client.Cluster).
type ClusterAPI struct{ c *Client }

// Cluster is the group of calls on the cluster itself.
func (c *Client) Cluster() *ClusterAPI { return &ClusterAPI{c} }

// Members lists the servers of the Raft configuration and which one leads.
func (a *ClusterAPI) Members(ctx context.Context) ([]*Member, error) { return a.c.Members(ctx) }

// Leader is the member that leads now, as the answering server sees it, or
// an error matching ErrNotFound while it knows of none (during an election).
func (a *ClusterAPI) Leader(ctx context.Context) (*Member, error) {
	ms, err := a.c.Members(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.GetLeader() {
			return m, nil
		}
	}
	return nil, fmt.Errorf("cluster leader: no server leads now: %w", ErrNotFound)
}

// RemovePeer removes a server from the Raft configuration.
func (a *ClusterAPI) RemovePeer(ctx context.Context, nodeID string) error {
	return a.c.RemovePeer(ctx, nodeID)
}

// Settings reads the replicated cluster settings.
func (a *ClusterAPI) Settings(ctx context.Context) (*ClusterSettings, error) {
	return a.c.ClusterSettings(ctx)
}

// UpdateSettings changes the fields set in change and returns the settings in force.
func (a *ClusterAPI) UpdateSettings(ctx context.Context, change *ClusterSettings) (*ClusterSettings, error) {
	return a.c.UpdateClusterSettings(ctx, change)
}

// applyOne applies one resource and returns its result.
func (c *Client) applyOne(ctx context.Context, res *Resource, dryRun bool) (*ApplyResult, error) {
	results, err := c.Apply(ctx, []*pb.Resource{res}, dryRun)
	if err != nil {
		return nil, err
	}
	if len(results) != 1 {
		return nil, fmt.Errorf("apply: the server answered with %d results for one object", len(results))
	}
	return results[0], nil
}
