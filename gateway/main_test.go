package gateway_test

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/invitegw/invitegw/internal/testlog"
)

// allLogs collects every test gateway's log so TestMain can check them all for secrets.
var allLogs struct {
	sync.Mutex
	bufs []*testlog.Buffer
}

func registerLog(b *testlog.Buffer) {
	allLogs.Lock()
	allLogs.bufs = append(allLogs.bufs, b)
	allLogs.Unlock()
}

// TestMain runs the package's tests, then greps every log line any test gateway wrote for the
// fakes' credentials, the client API keys, every JWT a test minted, and Elastic invitation
// tokens (audit lines included): whatever a test did,
// including failures and faults, none may reach a log.
func TestMain(m *testing.M) {
	code := m.Run()
	secrets := append([]string{rpToken, rpClientSecret, ecKey, frToken, testAPIKey, readerKey, writerKey, auditorKey, adminKey}, ecTokens...)
	issued.Lock()
	secrets = append(secrets, issued.tokens...)
	issued.Unlock()
	allLogs.Lock()
	defer allLogs.Unlock()
	lines := 0
	for _, b := range allLogs.bufs {
		text := b.String()
		lines += strings.Count(text, "\n")
		for _, s := range secrets {
			if strings.Contains(text, s) {
				fmt.Fprintf(os.Stderr, "FAIL: a gateway log contains the secret %q\n", s)
				code = 1
			}
		}
	}
	if code == 0 && lines == 0 && !testing.Short() && len(allLogs.bufs) > 0 {
		fmt.Fprintln(os.Stderr, "FAIL: the log scan saw no log lines: logging is not wired to the tests")
		code = 1
	}
	os.Exit(code)
}
