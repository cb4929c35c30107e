package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "write docs/graphiql.png from the browser test")

// TestGraphiQLInABrowser opens the demo's GraphiQL in a real headless Chromium, runs the
// default query with the run button, and reads the answer GraphiQL rendered: the page and
// its scripts come from the binary, nothing is requested from another origin, and nothing
// breaks the Content-Security-Policy.
func TestGraphiQLInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not found; CI must install it (apt-get install -y chromium)")
		}
		t.Skip("chromium not installed")
	}
	addr, _ := startDemo(t, nil)
	base := "http://" + addr

	// What the default query must show, asked directly.
	_, direct := post(t, base+"/graphql", `{"query":"{ invitations(filter: {status: [PENDING]}, first: 10) { totalCount } }"}`)
	var want struct {
		Data struct{ Invitations struct{ TotalCount int } }
	}
	if err := json.Unmarshal([]byte(direct), &want); err != nil || want.Data.Invitations.TotalCount == 0 {
		t.Fatalf("direct query: %s (%v)", direct, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	var (
		mu        sync.Mutex
		requested []string
		problems  []string
	)
	// chromedp enables the network and runtime domains on the tab: their events arrive here.
	listenErr := chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			requested = append(requested, ev.Request.URL)
		case *cdplog.EventEntryAdded: // the browser's own reports: CSP violations, failed loads
			if ev.Entry.Level == "error" {
				problems = append(problems, string(ev.Entry.Source)+": "+ev.Entry.Text)
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			if d.Exception != nil {
				problems = append(problems, "exception: "+d.Text+" "+d.Exception.Description)
			} else {
				problems = append(problems, "exception: "+d.Text)
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == "error" {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, "console.error: "+strings.Join(args, " "))
			}
		}
	})

	if listenErr != nil {
		t.Fatal(listenErr)
	}
	err = chromedp.Do(bctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-execute-button")),
		chromedp.Click(chromedp.CSS(".graphiql-execute-button")),
	)
	if err != nil {
		t.Fatalf("driving GraphiQL: %v (problems: %v)", err, problems)
	}
	result, err := chromedp.Run(bctx, chromedp.Poll[string](
		`((document.querySelector('.result-window') || {}).innerText || '').includes('"totalCount"') && document.querySelector('.result-window').innerText`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("waiting for the answer: %v (problems: %v)", err, problems)
	}
	png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if w := fmt.Sprintf(`"totalCount": %d`, want.Data.Invitations.TotalCount); !strings.Contains(result, w) ||
		!strings.Contains(result, `"provider": "`) || !strings.Contains(result, `"organization": {`) {
		t.Fatalf("GraphiQL rendered:\n%.600s\nwant %s, providers and organizations", result, w)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, u := range requested {
		if !strings.HasPrefix(u, base+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page requested %s, another origin", u)
		}
	}
	if len(problems) > 0 {
		t.Errorf("the page reported errors: %q", problems)
	}
	if *updateScreenshot {
		if err := os.WriteFile("docs/graphiql.png", png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("GraphiQL ran the default query through %d requests, all to %s", len(requested), base)
}
