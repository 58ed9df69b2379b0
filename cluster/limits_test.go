package cluster_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/raftcron/raftcron/auth"
	"github.com/raftcron/raftcron/client"
	"github.com/raftcron/raftcron/cluster"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
)

func bigJob(name string, bytes int) *pb.Resource {
	return &pb.Resource{Kind: &pb.Resource_Job{Job: &pb.Job{Metadata: &pb.ObjectMeta{Name: name},
		Spec: &pb.JobSpec{Suspend: proto.Bool(true), Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{RestartPolicy: "Never",
			Containers: []*pb.Container{{Name: "main", Image: "busybox:1", Args: []string{strings.Repeat("x", bytes)}}}}}}}}}
}

// Every limit refuses with an error that names it and writes nothing.
func TestLimitsRefuseAndWriteNothing(t *testing.T) {
	tc := newTestClusterWith(t, 1, func(i int, nd *testNode) {
		nd.tune = func(c *cluster.Config) { c.Limits = scheduler.Limits{MaxCronJobsPerNamespace: 3} }
	})
	c := dial(t, tc.waitLeader().grpcAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	_, err := c.Apply(ctx, []*pb.Resource{bigJob("huge", 300<<10)}, false)
	if !errors.Is(err, client.ErrLimitExceeded) || !strings.Contains(err.Error(), "over the object size limit of 262144 bytes (--max-object-size)") {
		t.Fatalf("oversized Job: %v", err)
	}
	wide := bigJob("wide", 1)
	wide.GetJob().Spec.Parallelism = proto.Int32(math.MaxInt32)
	if _, err := c.Apply(ctx, []*pb.Resource{wide}, false); !errors.Is(err, client.ErrLimitExceeded) ||
		!strings.Contains(err.Error(), "parallelism 2147483647 is over the limit of 1000 (--max-parallelism)") {
		t.Fatalf("unbounded parallelism: %v", err)
	}
	var four []*pb.Resource
	for i := range 4 {
		four = append(four, yearlyCronJob(fmt.Sprintf("cj-%d", i)))
	}
	if _, err := c.Apply(ctx, four, false); !errors.Is(err, client.ErrLimitExceeded) ||
		!strings.Contains(err.Error(), `namespace "default" would hold 4 CronJobs, over the limit of 3 per namespace (--max-cronjobs-per-namespace)`) {
		t.Fatalf("too many CronJobs: %v", err)
	}
	if jobs, _ := c.ListJobs(ctx, "default", ""); len(jobs) != 0 {
		t.Fatalf("refused Jobs were written: %d", len(jobs))
	}
	if cjs, _ := c.ListCronJobs(ctx, "default"); len(cjs) != 0 {
		t.Fatalf("refused CronJobs were written: %d", len(cjs))
	}
	if _, err := c.Apply(ctx, four[:3], false); err != nil {
		t.Fatalf("three CronJobs: %v", err)
	}
	// Another namespace has its own count.
	other := yearlyCronJob("cj-0")
	other.GetCronJob().Metadata.Namespace = "other"
	if _, err := c.Apply(ctx, []*pb.Resource{other}, false); err != nil {
		t.Fatalf("a CronJob in another namespace: %v", err)
	}
}

// A list larger than one gRPC message (4 MB) comes back whole, page by page.
func TestListLargerThanOneMessagePages(t *testing.T) {
	if testing.Short() {
		t.Skip("in-process cluster test")
	}
	tc := newTestCluster(t, 1)
	addr := tc.waitLeader().grpcAddr
	c := dial(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const n, size = 24, 250 << 10 // 6 MB in all
	for i := range n {
		if _, err := c.Apply(ctx, []*pb.Resource{bigJob(fmt.Sprintf("big-%02d", i), size)}, false); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := c.ListJobs(ctx, "default", "")
	if err != nil {
		t.Fatalf("list %d Jobs of %d KiB: %v", n, size>>10, err)
	}
	if len(jobs) != n {
		t.Fatalf("listed %d Jobs, want %d", len(jobs), n)
	}
	for i, j := range jobs {
		if want := fmt.Sprintf("big-%02d", i); j.GetMetadata().GetName() != want {
			t.Fatalf("item %d is %s, want %s (a page repeated or skipped one)", i, j.GetMetadata().GetName(), want)
		}
	}
	// Small chunks too.
	small, err := client.New(client.Config{Servers: []string{addr}, Insecure: true, ChunkSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if jobs, err := small.ListJobs(ctx, "default", ""); err != nil || len(jobs) != n {
		t.Fatalf("list in chunks of 5: %d jobs, %v", len(jobs), err)
	}
}

// Each ACL token has its own request rate.
func TestTokenRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("in-process cluster test")
	}
	pki := newTestPKI(t)
	tc := newTestClusterPKI(t, 1, pki, func(i int, nd *testNode) {
		nd.tune = func(c *cluster.Config) { c.RateLimit, c.RateBurst = 0.001, 5 }
	})
	addr := tc.waitLeader().grpcAddr
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	anon := pki.client(t, "", auth.RoleClient, "alice", addr)
	boot, err := anon.ACLBootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mgmt := pki.client(t, boot.GetSecret(), auth.RoleClient, "alice", addr)
	other, err := mgmt.ACLTokenCreate(ctx, client.ACLTokenSpec{Name: "reader", Namespaces: []string{"*"}, Verbs: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	reader := pki.client(t, other.GetSecret(), auth.RoleClient, "bob", addr)
	var last error
	for range 6 {
		if _, last = reader.ListCronJobs(ctx, "default"); last != nil {
			break
		}
	}
	if !errors.Is(last, client.ErrLimitExceeded) || !strings.Contains(last.Error(), `rate limit: token "reader"`) || !strings.Contains(last.Error(), "--token-rate-limit") {
		t.Fatalf("6 calls with a burst of 5: %v", last)
	}
	// Another token is not slowed by it (the management token made 2 calls).
	if _, err := mgmt.ListCronJobs(ctx, "default"); err != nil {
		t.Fatalf("another token: %v", err)
	}
}

// Attempts list page by page in their order (namespace, Job, index,
// number), across Jobs and namespaces, each page read from the Jobs it
// covers: small chunks give the same list as one page.
func TestListAttemptsPages(t *testing.T) {
	if testing.Short() {
		t.Skip("in-process cluster test")
	}
	tc := newTestCluster(t, 1)
	addr := tc.waitLeader().grpcAddr
	c := dial(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var want int
	for _, ns := range []string{"default", "other"} {
		for i := range 5 {
			r := bigJob(fmt.Sprintf("p-%d", i), 10)
			j := r.GetJob()
			j.Metadata.Namespace = ns
			j.Spec.Suspend = nil
			j.Spec.Parallelism, j.Spec.Completions = proto.Int32(3), proto.Int32(3)
			if _, err := c.Apply(ctx, []*pb.Resource{r}, false); err != nil {
				t.Fatal(err)
			}
			want += 3
		}
	}
	var whole []*pb.Attempt
	waitUntil(t, 30*time.Second, "the Jobs' attempts", func() bool {
		var err error
		whole, err = c.ListAttemptsAllNamespaces(ctx)
		return err == nil && len(whole) == want
	})
	small, err := client.New(client.Config{Servers: []string{addr}, Insecure: true, ChunkSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	paged, err := small.ListAttemptsAllNamespaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key := func(as []*pb.Attempt) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.GetNamespace()+"/"+a.GetName())
		}
		return out
	}
	if got, all := key(paged), key(whole); !slices.Equal(got, all) {
		t.Fatalf("in chunks of 4:\n%v\nin one page:\n%v", got, all)
	}
	if !slices.IsSortedFunc(whole, func(a, b *pb.Attempt) int {
		return cmp.Or(cmp.Compare(a.GetNamespace(), b.GetNamespace()), cmp.Compare(a.GetJob(), b.GetJob()),
			cmp.Compare(a.GetIndex(), b.GetIndex()), cmp.Compare(a.GetNumber(), b.GetNumber()))
	}) {
		t.Fatalf("attempts not in (namespace, Job, index, number) order: %v", key(whole))
	}
	other, err := small.ListAttempts(ctx, "other", "")
	if err != nil || len(other) != want/2 || other[0].GetNamespace() != "other" {
		t.Fatalf("namespace other in chunks of 4: %d attempts (%v), want %d", len(other), err, want/2)
	}
}
