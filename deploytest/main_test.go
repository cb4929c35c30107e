package deploytest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/invitegw/invitegw/internal/loopback"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if gatewayBuild.dir != "" {
		_ = os.RemoveAll(gatewayBuild.dir)
	}
	os.Exit(code)
}

// gatewayBuild is the invitegw binary, built on first use and shared by every test of the run.
var gatewayBuild struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// buildGateway builds invitegw with the go command on PATH (GOFLAGS and the rest of the
// environment apply) the first time a test asks, and returns the binary's path.
func buildGateway(t testing.TB) string {
	t.Helper()
	gatewayBuild.once.Do(func() {
		goCmd, err := exec.LookPath("go")
		if err != nil {
			gatewayBuild.err = err
			return
		}
		if gatewayBuild.dir, err = os.MkdirTemp("", "deploytest-"); err != nil {
			gatewayBuild.err = err
			return
		}
		gatewayBuild.bin = filepath.Join(gatewayBuild.dir, "invitegw")
		start := time.Now()
		out, err := exec.Command(goCmd, "build", "-o", gatewayBuild.bin, "github.com/invitegw/invitegw").CombinedOutput()
		if err != nil {
			gatewayBuild.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		t.Logf("built invitegw in %v", time.Since(start).Round(time.Millisecond))
	})
	if gatewayBuild.err != nil {
		t.Fatalf("deploytest: build invitegw: %v", gatewayBuild.err)
	}
	return gatewayBuild.bin
}

// needBinary finds a tool the tests run, or ends the test: skipped locally, failed in CI
// (CI=true), where a missing tool means the machine was set up wrong.
func needBinary(t testing.TB, name, pkg string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("deploytest: %s not found; CI must install it (apt-get install -y %s)", name, pkg)
		}
		t.Skipf("deploytest: %s not installed", name)
	}
	return bin
}

// freePort is a loopback port that was free a moment ago; callers retry when it was taken
// meanwhile.
func freePort(t testing.TB) int {
	t.Helper()
	p, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
