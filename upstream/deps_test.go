package upstream

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// mainPackage is the gateway binary. Its -demo flag serves the fake upstreams, so everything
// they import is linked into production.
const mainPackage = "github.com/invitegw/invitegw"

// TestNoTestingInBinary fails when the gateway binary imports the testing package, as it did
// while the fakes' plumbing lived in upstreamtest: testing registers its flags and pulls its
// runtime hooks into any program that imports it. The fakes' plumbing lives in fakeserver, and
// only tests import upstreamtest.
func TestNoTestingInBinary(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the go command is needed in CI: %v", err)
		}
		t.Skipf("no go command: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goCmd, "list", "-deps", mainPackage).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list -deps %s: %v\n%s", mainPackage, err, stderr)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, mainPackage) {
		t.Fatalf("go list -deps did not list %s itself: %q", mainPackage, out)
	}
	if slices.Contains(deps, "testing") {
		t.Errorf("%s imports testing; find the path with: go list -deps -f '{{.ImportPath}}: {{.Imports}}' %s",
			mainPackage, mainPackage)
	}
}
