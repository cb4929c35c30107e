// Package upstreamtest holds test helpers for the provider clients: checks of what a client
// makes of an injected fault, and decoder benchmarks. It imports testing, so only tests may
// import it; the fakes' own plumbing is in fakeserver.
package upstreamtest

import (
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/fakeserver"
)

// CheckFault asserts that err is what a client must make of an injected body fault on a 200
// answer: an *upstream.Error of provider and op, ErrBadResponse wrapping the JSON syntax error
// for a malformed body, ErrUnavailable wrapping io.ErrUnexpectedEOF for a body cut short.
func CheckFault(t testing.TB, err error, kind fakeserver.FaultKind, provider, op string) {
	t.Helper()
	var ue *upstream.Error
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want *upstream.Error", err)
	}
	if ue.Provider != provider || ue.Op != op || ue.Status != http.StatusOK || ue.Code != "" {
		t.Errorf("error = %+v", ue)
	}
	switch kind {
	case fakeserver.FaultMalformed:
		var syntax *jsontext.SyntacticError
		if !errors.Is(err, upstream.ErrBadResponse) || !errors.As(err, &syntax) {
			t.Errorf("err = %v, want ErrBadResponse wrapping a *jsontext.SyntacticError", err)
		}
	case fakeserver.FaultCloseMidBody:
		if !errors.Is(err, upstream.ErrUnavailable) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("err = %v, want ErrUnavailable wrapping io.ErrUnexpectedEOF", err)
		}
	}
}
