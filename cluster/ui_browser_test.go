package cluster_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/raftcron/raftcron/auth"
	"github.com/raftcron/raftcron/client"
	"github.com/raftcron/raftcron/cluster"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/worker"
)

// chromium finds Debian's chromium, installing it when missing. It skips
// the test, loudly, only when it cannot be had.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Log("chromium is missing: apt-get update && apt-get install -y chromium")
	out, err := exec.Command("sh", "-c", "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium").CombinedOutput()
	if p, lerr := exec.LookPath("chromium"); err == nil && lerr == nil {
		return p
	}
	msg := fmt.Sprintf("SKIPPING THE BROWSER TEST: chromium could not be installed (%v):\n%s", err, out)
	fmt.Fprintln(os.Stderr, msg)
	t.Skip(msg)
	return ""
}

// screenshotDir is where the test keeps its screenshots: $RAFTCRON_UI_SCREENSHOTS,
// or a new directory under the temp dir that outlives the test.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("RAFTCRON_UI_SCREENSHOTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "raftcron-ui-screenshots-"); err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// reportCronJob runs every second, or, quiet, at 03:00 in Berlin and
// suspended (so that the pages stop changing while the browser reads them).
func reportCronJob(privileged, quiet bool) *pb.Resource {
	backoff := int32(0)
	schedule, zone, suspend := "* * * * * *", (*string)(nil), false
	if quiet {
		berlin := "Europe/Berlin"
		schedule, zone, suspend = "0 3 * * *", &berlin, true
	}
	return &pb.Resource{Kind: &pb.Resource_CronJob{CronJob: &pb.CronJob{
		ApiVersion: "batch/v1", Kind: "CronJob",
		Metadata: &pb.ObjectMeta{Name: "report", Namespace: "default", Labels: map[string]string{"team": "data"}},
		Spec: &pb.CronJobSpec{
			Schedule: schedule, TimeZone: zone, Suspend: &suspend,
			JobTemplate: &pb.JobTemplateSpec{Spec: &pb.JobSpec{BackoffLimit: &backoff, Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{
				RestartPolicy: "Never",
				Containers: []*pb.Container{{Name: "main", Image: "busybox:1.36", Command: []string{"sh", "-c", "echo nightly report"},
					SecurityContext: &pb.SecurityContext{Privileged: &privileged}}},
			}}}},
		},
	}}}
}

// TestDashboardInBrowser starts a secure one-server cluster with a worker,
// gives a CronJob a failed, a succeeded and a skipped tick, and drives the
// dashboard in headless chromium: log in, each page shows what happened, a
// read token gets no buttons and is refused a trigger, a token that may
// trigger clicks "Trigger now" and sees the new Job.
func TestDashboardInBrowser(t *testing.T) {
	chrome := chromium(t)
	shots := screenshotDir(t)
	pki := newTestPKI(t)

	srv, err := cluster.New(cluster.Config{
		NodeID: "n1", DataDir: filepath.Join(t.TempDir(), "n1"), RaftAddr: freeAddr(t), GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Bootstrap: true, HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond,
		LeaderLeaseTimeout: 150 * time.Millisecond, CommitTimeout: 10 * time.Millisecond,
		Worker: cluster.WorkerConfig{HeartbeatInterval: 100 * time.Millisecond, WorkerTTL: time.Second, LeaseTTL: 2 * time.Second},
		Logger: testLogger(t), TLS: pki.serverCreds("n1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() { _ = srv.Stop() })
	addr := srv.GRPCAddr()

	ctx, cancel := context.WithCancel(context.Background())
	agent, err := worker.New(worker.Config{Servers: []string{addr}, ID: "w1", Slots: 2, DataDir: filepath.Join(t.TempDir(), "w1"), Runtime: "noop",
		Logger:      testLogger(t),
		DialOptions: []grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(pki.creds(auth.RoleWorker, "w1").ClientTLS()))}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = agent.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	// ACLs: a management token, a read token and an operator token.
	boot := pki.client(t, "", auth.RoleClient, "admin", addr)
	var mgmt *pb.ACLTokenSecret
	waitUntil(t, 20*time.Second, "ACL bootstrap", func() bool {
		mgmt, err = boot.ACLBootstrap(shortCtx(t))
		return err == nil
	})
	admin := pki.client(t, mgmt.GetSecret(), auth.RoleClient, "admin", addr)
	reader, err := admin.ACLTokenCreate(shortCtx(t), client.ACLTokenSpec{Name: "viewer", Namespaces: []string{"default"}, Verbs: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	operator, err := admin.ACLTokenCreate(shortCtx(t), client.ACLTokenSpec{Name: "oncall", Namespaces: []string{"default"},
		Verbs: []string{"read", "write", "trigger", "logs"}})
	if err != nil {
		t.Fatal(err)
	}

	// A failure (the worker refuses a privileged container), then a
	// success, then skips (suspended).
	apply := func(privileged, quiet bool) {
		t.Helper()
		if _, err := admin.Apply(shortCtx(t), []*pb.Resource{reportCronJob(privileged, quiet)}, false); err != nil {
			t.Fatal(err)
		}
	}
	jobWith := func(result string) string {
		jobs, err := admin.ListJobs(shortCtx(t), "default", "report")
		if err != nil {
			return ""
		}
		for _, j := range jobs {
			if client.JobStatusText(j) == result {
				return j.GetMetadata().GetName()
			}
		}
		return ""
	}
	apply(true, false)
	var failedJob string
	waitUntil(t, 20*time.Second, "a failed Job", func() bool { failedJob = jobWith(client.ConditionFailed); return failedJob != "" })
	apply(false, false)
	waitUntil(t, 20*time.Second, "a succeeded Job", func() bool { return jobWith(client.ConditionComplete) != "" })
	if err := admin.SetSuspend(shortCtx(t), client.KindCronJob, "default", "report", true); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "a skipped tick", func() bool {
		cj, err := admin.GetCronJob(shortCtx(t), "default", "report")
		if err != nil {
			return false
		}
		ds := cj.GetStatus().GetDecisions()
		return len(ds) > 0 && ds[len(ds)-1].GetDecision() == "skip"
	})
	// Quiet from here on: no more ticks, so the pages change only when the
	// test acts.
	apply(false, true)
	// The failed Job stays (failedJobsHistoryLimit 1) while the CronJob is
	// suspended; read it again in case a later failure replaced it.
	failedJob = jobWith(client.ConditionFailed)

	// A server with TLS serves its HTTP port over HTTPS.
	base := srv.HTTPURL()
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("the dashboard of a server with TLS is at %s; want https://", base)
	}
	t.Logf("dashboard at %s/ui/", base)

	// The test CA is not in chromium's trust store: only this test's
	// browser ignores certificate errors.
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 1000), chromedp.Flag("disable-gpu", true), chromedp.Flag("ignore-certificate-errors", true))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if _, err := chromedp.Run(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// Chromium abandons a request in flight when the host's network
	// interfaces change (net::ERR_NETWORK_CHANGED), and other tests of
	// `make test` start containers, which add and remove interfaces. A
	// step that starts with a navigation is taken again then, as a user
	// would reload; any other failure fails the test.
	networkChanged := func(err error) bool {
		if err != nil && strings.Contains(err.Error(), "ERR_NETWORK_CHANGED") {
			return true
		}
		c, cancel := context.WithTimeout(bctx, 2*time.Second)
		defer cancel()
		where, _ := chromedp.Run(c, chromedp.Evaluate[string](`location.href`))
		return strings.HasPrefix(where, "chrome-error://")
	}
	run := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		for try := 1; ; try++ {
			c, cancel := context.WithTimeout(bctx, 15*time.Second)
			err := chromedp.Do(c, a)
			cancel()
			if err == nil {
				return
			}
			if try == 3 || !networkChanged(err) {
				t.Fatalf("%s: %v", what, err)
			}
			t.Logf("%s: the browser lost its request to a network change on the host (%v); again", what, err)
		}
	}
	// text and eval read the page; one that a network change replaced
	// with an error page (a live reload cut off) is loaded again first.
	var settled func()
	text := func(sel string) string {
		t.Helper()
		var s string
		var err error
		for try := 1; try <= 2; try++ {
			c, cancel := context.WithTimeout(bctx, 10*time.Second)
			s, err = chromedp.Run(c, chromedp.Text(sel))
			cancel()
			if err == nil || !networkChanged(err) {
				break
			}
			settled()
		}
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	eval := func(js string, out any) {
		t.Helper()
		var v any
		var err error
		for try := 1; try <= 2; try++ {
			c, cancel := context.WithTimeout(bctx, 10*time.Second)
			v, err = chromedp.Run(c, chromedp.Evaluate[any](js, chromedp.EvalAwaitPromise))
			cancel()
			if err == nil || !networkChanged(err) {
				break
			}
			settled()
		}
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		switch o := out.(type) {
		case *string:
			*o = fmt.Sprint(v)
		case *float64:
			f, _ := v.(float64)
			*o = f
		}
	}
	// post runs a fetch from the page. The page reloads itself when the
	// cluster changes (its event stream), and a reload that lands while
	// the fetch is in flight fails it with "Failed to fetch" or destroys
	// the context it runs in; the fetch is then sent again once the page
	// has settled, as a user would press the button again.
	post := func(js string) string {
		t.Helper()
		var err error
		for try := 0; try < 5; try++ {
			c, cancel := context.WithTimeout(bctx, 10*time.Second)
			var v any
			v, err = chromedp.Run(c, chromedp.Evaluate[any](js, chromedp.EvalAwaitPromise))
			cancel()
			if err == nil {
				return fmt.Sprint(v)
			}
			if !strings.Contains(err.Error(), "Failed to fetch") && !strings.Contains(err.Error(), "context was destroyed") {
				break
			}
			settled()
		}
		t.Fatalf("evaluate %s: %v", js, err)
		return ""
	}
	// settled: the page is live (its event stream is open; pages without
	// one, such as the login page, count as live) and has not reloaded
	// itself for a second.
	settled = func() {
		t.Helper()
		var last, seen string
		var since time.Time
		deadline := time.Now().Add(30 * time.Second)
		for {
			c, cancel := context.WithTimeout(bctx, 2*time.Second)
			v, err := chromedp.Run(c, chromedp.Evaluate[string](`location.href.startsWith('chrome-error://') ? 'error ' + location.href : performance.timeOrigin + " " + (document.body.dataset.live ? window.__raftcronLive : "live")`))
			seen = fmt.Sprint(v, " ", err)
			switch {
			case err == nil && (strings.HasPrefix(v, "error ") || strings.HasSuffix(v, " closed")):
				// A load, or the page's event stream, that a network
				// change cut off (see run): load the page again, as a
				// user would.
				_, _ = chromedp.Run(c, chromedp.Reload())
				last = ""
			case err != nil || !strings.HasSuffix(v, " live"):
				last = ""
			case v != last:
				last, since = v, time.Now()
			case time.Since(since) > time.Second:
				cancel()
				return
			}
			cancel()
			if time.Now().After(deadline) {
				t.Fatalf("timed out after 30s waiting for the page to settle (last seen: %s)", seen)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	shot := func(name string) {
		t.Helper()
		var png []byte
		var err error
		for try := 0; try < 3; try++ {
			settled()
			c, cancel := context.WithTimeout(bctx, 5*time.Second)
			png, err = chromedp.Run(c, chromedp.FullScreenshot(100))
			cancel()
			if err == nil {
				break
			}
		}
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustContain := func(what, got string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Fatalf("%s shows %q; want it to contain %q", what, got, w)
			}
		}
	}
	// login logs in with the token. A network change can cut off the
	// answer to a login that worked (see run): the next try then finds
	// the overview instead of the login form, and is done.
	login := func(secret string) {
		t.Helper()
		run("log in", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := chromedp.Steps(chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(chromedp.CSS("#token, #servers")))(ctx, tg); err != nil {
				return err
			}
			form, err := chromedp.Evaluate[bool](`document.querySelector('#token') !== null`)(ctx, tg)
			if err != nil || !form {
				return err
			}
			_, err = chromedp.Steps(chromedp.SendKeys("#token", secret), chromedp.Click("#login"), chromedp.WaitVisible("#servers"))(ctx, tg)
			return err
		}))
	}

	// Without a token the dashboard asks for one.
	run("open without a token", chromedp.Steps(chromedp.Navigate(base+"/ui/cronjobs"), chromedp.WaitVisible("#token")))
	shot("01-login")
	// A wrong token is refused.
	run("wrong token", chromedp.Steps(chromedp.Navigate(base+"/ui/cronjobs"), chromedp.WaitVisible("#token"),
		chromedp.SendKeys("#token", "not-a-token"), chromedp.Click("#login"), chromedp.WaitVisible("#error")))
	mustContain("login error", text("#error"), "not valid")

	// Read token: overview.
	login(reader.GetSecret())
	// The token is kept in a Secure, HttpOnly, SameSite=Strict cookie.
	cookies, err := chromedp.Call(bctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/ui/"}})
	if err != nil {
		t.Fatalf("read the browser's cookies: %v", err)
	}
	var tokenCookie *network.Cookie
	for _, c := range cookies.Cookies {
		if c.Name == "raftcron_token" {
			tokenCookie = c
		}
	}
	if tokenCookie == nil || !tokenCookie.Secure || !tokenCookie.HTTPOnly || tokenCookie.SameSite != network.CookieSameSiteStrict {
		t.Fatalf("token cookie %+v; want one that is Secure, HttpOnly and SameSite=Strict", tokenCookie)
	}
	var fromScript string
	eval(`document.cookie`, &fromScript)
	if strings.Contains(fromScript, "raftcron_token") {
		t.Errorf("a script reads the token cookie: %q", fromScript)
	}
	mustContain("overview servers", text("#servers"), "n1", "leader")
	mustContain("overview workers", text("#workers"), "w1", "Ready", "noop", "used")
	mustContain("viewer", text("#viewer"), "viewer", "read")
	for _, c := range []string{"#count-succeeded", "#count-failed", "#count-skipped"} {
		if n := text(c); n == "0" {
			t.Errorf("overview %s shows 0; want at least 1", c)
		}
	}
	shot("02-overview")

	// CronJobs list: schedule in words, the strip with all three results.
	run("cronjobs", chromedp.Steps(chromedp.Navigate(base+"/ui/cronjobs?namespace=default&label=team%3Ddata"), chromedp.WaitVisible("#cronjobs")))
	row := text(`#cronjobs tr[data-name="report"]`)
	mustContain("cronjob row", row, "default/report", "at 03:00 every day, Europe/Berlin", "suspended", "skipped")
	var results string
	eval(`Array.from(new Set(Array.from(document.querySelectorAll('tr[data-name="report"] .strip .tick')).map(e => e.dataset.result))).sort().join(",")`, &results)
	mustContain("tick strip results", results, "failed", "skipped", "succeeded")
	shot("03-cronjobs")
	// A label that matches nothing filters the row out.
	run("cronjobs filtered", chromedp.Steps(chromedp.Navigate(base+"/ui/cronjobs?label=team%3Dweb"), chromedp.WaitVisible("#cronjobs")))
	mustContain("filtered list", text("#cronjobs"), "No CronJob matches")

	// A CronJob, read-only.
	run("cronjob", chromedp.Steps(chromedp.Navigate(base+"/ui/cronjobs/default/report"), chromedp.WaitVisible("#timeline svg")))
	settled()
	mustContain("read-only note", text("#readonly"), "read-only")
	var buttons float64
	eval(`document.querySelectorAll('#trigger, #suspend, #resume').length`, &buttons)
	if buttons != 0 {
		t.Fatalf("a read token sees %v action buttons; want none", buttons)
	}
	mustContain("decisions", text("#decisions"), "skipped", "Suspended", "failed", "succeeded")
	var marks string
	eval(`Array.from(new Set(Array.from(document.querySelectorAll('#timeline rect')).map(e => e.getAttribute('class')))).sort().join(",")`, &marks)
	mustContain("timeline marks", marks, "t-failed", "t-skipped", "t-succeeded")
	var bars float64
	eval(`document.querySelectorAll('#delay-chart rect, #duration-chart rect').length`, &bars)
	if bars == 0 {
		t.Error("the start delay and duration charts draw no bars")
	}
	if page := text("main"); strings.Contains(page, "1970") {
		t.Errorf("the CronJob page shows an unset time as 1970: %s", page)
	}
	shot("04-cronjob-readonly")

	// The read token is refused a trigger even when it posts the form itself.
	status := post(`fetch('/ui/cronjobs/default/report/trigger', {method: 'POST', body: new URLSearchParams({csrf: document.querySelector('input[name=csrf]').value})}).then(r => r.status + ' ' + r.statusText)`)
	mustContain("trigger with a read token", status, "403")
	// And a POST without the CSRF token is refused before anything else.
	status = post(`fetch('/ui/cronjobs/default/report/trigger', {method: 'POST', body: new URLSearchParams({csrf: 'forged'})}).then(r => r.text())`)
	mustContain("trigger without CSRF token", status, "CSRF")
	if jobs, _ := admin.ListJobs(shortCtx(t), "default", "report"); hasManual(jobs) {
		t.Fatal("a refused trigger created a Job")
	}

	// A Job: the failed attempt with its worker and reason.
	if failedJob == "" {
		t.Fatal("no failed Job kept")
	}
	run("job", chromedp.Steps(chromedp.Navigate(base+"/ui/jobs/default/"+failedJob), chromedp.WaitVisible("#attempts")))
	mustContain("job status", text("#job-status"), "Failed")
	mustContain("attempts", text("#attempts"), "Failed", "w1", "Rejected")
	mustContain("what decided the Job", text("#decided"), "w1", "Rejected")
	if page := text("main"); strings.Contains(page, "1970") {
		t.Errorf("the Job page shows an unset time as 1970: %s", page)
	}
	shot("05-job")

	// Workers.
	run("workers", chromedp.Steps(chromedp.Navigate(base+"/ui/workers"), chromedp.WaitVisible("#worker-w1")))
	mustContain("worker card", text("#worker-w1"), "w1", "noop", "Recently")
	shot("06-workers")

	// Operator token: the buttons, a confirmation, and the triggered Job.
	// The overview reloads itself when the cluster changes: a click that
	// lands on the page being replaced is lost, and the user clicks again.
	for try := 1; ; try++ {
		run("open the overview", chromedp.Steps(chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible("#servers")))
		settled()
		c, cancel := context.WithTimeout(bctx, 5*time.Second)
		err := chromedp.Do(c, chromedp.Steps(chromedp.Click("button.link"), chromedp.WaitVisible("#token")))
		cancel()
		if err == nil {
			break
		}
		if try == 3 {
			t.Fatalf("log out: %v", err)
		}
	}
	login(operator.GetSecret())
	run("cronjob as operator", chromedp.Steps(chromedp.Navigate(base+"/ui/cronjobs/default/report"), chromedp.WaitVisible("#trigger"), chromedp.WaitVisible("#resume")))
	// The browser's own confirmation dialog asks first; the test accepts it.
	asked := make(chan string, 4)
	if err := chromedp.Listen(bctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			select {
			case asked <- d.Message:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	// The click returns only once the dialog is answered: answer it from
	// another goroutine. The trigger's POST, too, can be lost to a network
	// change on the host (see run): the user opens the page and triggers
	// again.
	for try := 1; ; try++ {
		confirmed := make(chan string, 1)
		go func() {
			select {
			case msg := <-asked:
				_, err := chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
				if err != nil {
					msg = "accept failed: " + err.Error()
				}
				confirmed <- msg
			case <-bctx.Done():
			}
		}()
		settled()
		run("click trigger now", chromedp.Click("#trigger"))
		select {
		case msg := <-confirmed:
			mustContain("trigger confirmation", msg, "Run default/report now")
		case <-time.After(10 * time.Second):
			t.Fatal("Trigger now asked for no confirmation")
		}
		// The trigger goes through the leader loop and a Raft commit: on
		// a loaded machine that alone can take seconds.
		var where string
		deadline := time.Now().Add(45 * time.Second)
		for where == "" && time.Now().Before(deadline) {
			c, cancel := context.WithTimeout(bctx, 2*time.Second)
			v, err := chromedp.Run(c, chromedp.Evaluate[string](`document.querySelector('#flash') ? 'flash' : (location.href.startsWith('chrome-error://') ? location.href : '')`))
			cancel()
			if err == nil {
				where = v
			}
			if where == "" {
				time.Sleep(100 * time.Millisecond)
			}
		}
		if where == "flash" {
			break
		}
		if where != "" && try < 3 {
			t.Logf("trigger now: the browser lost its request to a network change on the host (%s); again", where)
			run("cronjob as operator again", chromedp.Steps(chromedp.Navigate(base+"/ui/cronjobs/default/report"), chromedp.WaitVisible("#trigger")))
			continue
		}
		eval(`location.href`, &where)
		shot("09-trigger-no-flash")
		t.Fatalf("trigger now: no flash message after 45s (the page is at %s)", where)
	}
	flash := text("#flash")
	mustContain("trigger flash", flash, "Triggered: Job report-manual-")
	job := strings.TrimSuffix(strings.TrimPrefix(flash, "Triggered: Job "), " created")
	mustContain("jobs after the trigger", text("#jobs"), job)
	// The page follows the Watch stream (server-sent events) and reloads
	// itself when the Job completes: no reload from the test.
	waitUntil(t, 60*time.Second, "the triggered Job to show Complete", func() bool {
		c, cancel := context.WithTimeout(bctx, 2*time.Second)
		defer cancel()
		row, err := chromedp.Run(c, chromedp.Text(fmt.Sprintf(`#jobs tr[data-job=%q]`, job)))
		return err == nil && strings.Contains(row, "Complete")
	})
	// It was the live stream (not the timer, which runs only when the
	// stream fails) that reloaded the page.
	settled()
	mustContain("events", text("#events"), "Created")
	shot("07-cronjob-triggered")
	if jobs, _ := admin.ListJobs(shortCtx(t), "default", "report"); !hasManual(jobs) {
		t.Fatal("the trigger made no manual Job")
	}
}

func hasManual(jobs []*pb.Job) bool {
	for _, j := range jobs {
		if j.GetStatus().GetManual() {
			return true
		}
	}
	return false
}

// waitUntil polls cond every 50ms until it holds or the timeout passes.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDashboardOpenWithoutACLs: on an --insecure server the dashboard needs
// no login, still refuses a POST without its CSRF token, and its cookies are
// Secure, HttpOnly and SameSite=Strict.
func TestDashboardOpenWithoutACLs(t *testing.T) {
	srv, err := cluster.New(cluster.Config{
		NodeID: "n1", DataDir: filepath.Join(t.TempDir(), "n1"), RaftAddr: freeAddr(t), GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Bootstrap: true, HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond,
		LeaderLeaseTimeout: 150 * time.Millisecond, CommitTimeout: 10 * time.Millisecond,
		Logger: testLogger(t), Insecure: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() { _ = srv.Stop() })
	c := dial(t, srv.GRPCAddr())
	waitUntil(t, 20*time.Second, "a leader that takes writes", func() bool {
		_, err := c.Apply(shortCtx(t), []*pb.Resource{reportCronJob(false, true)}, false)
		return err == nil
	})
	base := "http://" + srv.HTTPAddr()
	hc := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp, err := hc.Get(base + "/ui/cronjobs")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /ui/cronjobs without a token: %s; want 200 (ACLs are off)", resp.Status)
	}
	for _, want := range []string{"default/report", "at 03:00 every day, Europe/Berlin", "ACLs off"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the CronJobs page does not show %q", want)
		}
	}
	var sid *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "raftcron_sid" {
			sid = ck
		}
	}
	if sid == nil || !sid.Secure || !sid.HttpOnly || sid.SameSite != http.SameSiteStrictMode || sid.Path != "/ui/" {
		t.Fatalf("session cookie %+v; want Secure, HttpOnly, SameSite=Strict, Path /ui/", sid)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}

	// A POST without the page's CSRF token (a cross-site form) is refused
	// and triggers nothing.
	req, _ := http.NewRequest(http.MethodPost, base+"/ui/cronjobs/default/report/trigger", strings.NewReader("csrf=guess"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(sid)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST trigger with a wrong CSRF token: %s; want 403", resp.Status)
	}
	if jobs, _ := c.ListJobs(shortCtx(t), "default", "report"); len(jobs) != 0 {
		t.Fatalf("a refused trigger made %d Jobs", len(jobs))
	}
	// With the CSRF token of the CronJob page's form it runs.
	req, _ = http.NewRequest(http.MethodGet, base+"/ui/cronjobs/default/report", nil)
	req.AddCookie(sid)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `id="trigger"`) {
		t.Fatal("with ACLs off the CronJob page has no Trigger now button")
	}
	i := strings.Index(string(body), `name="csrf" value="`)
	if i < 0 {
		t.Fatal("the page has no CSRF field")
	}
	token := string(body)[i+len(`name="csrf" value="`):]
	token = token[:strings.IndexByte(token, '"')]
	req, _ = http.NewRequest(http.MethodPost, base+"/ui/cronjobs/default/report/trigger", strings.NewReader("csrf="+token))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(sid)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "Triggered") {
		t.Fatalf("POST trigger with the CSRF token: %s to %q; want 303 to the CronJob with a flash", resp.Status, resp.Header.Get("Location"))
	}
	if jobs, _ := c.ListJobs(shortCtx(t), "default", "report"); !hasManual(jobs) {
		t.Fatal("the trigger made no manual Job")
	}
}
