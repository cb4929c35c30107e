package upstreamtest

import (
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/invitegw/invitegw/upstream"
)

// InjectNext injects one fault of kind into route's next call: MalformedNext or
// CloseMidBodyNext.
func (rec *Recorder) InjectNext(route string, kind FaultKind) {
	switch kind {
	case FaultMalformed:
		rec.MalformedNext(route, 1)
	case FaultCloseMidBody:
		rec.CloseMidBodyNext(route, 1)
	}
}

// CheckFault asserts that err is what a client must make of an injected body fault on a 200
// answer: an *upstream.Error of provider and op, ErrBadResponse wrapping the JSON syntax error
// for a malformed body, ErrUnavailable wrapping io.ErrUnexpectedEOF for a body cut short.
func CheckFault(t testing.TB, err error, kind FaultKind, provider, op string) {
	t.Helper()
	var ue *upstream.Error
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want *upstream.Error", err)
	}
	if ue.Provider != provider || ue.Op != op || ue.Status != http.StatusOK || ue.Code != "" {
		t.Errorf("error = %+v", ue)
	}
	switch kind {
	case FaultMalformed:
		var syntax *jsontext.SyntacticError
		if !errors.Is(err, upstream.ErrBadResponse) || !errors.As(err, &syntax) {
			t.Errorf("err = %v, want ErrBadResponse wrapping a *jsontext.SyntacticError", err)
		}
	case FaultCloseMidBody:
		if !errors.Is(err, upstream.ErrUnavailable) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("err = %v, want ErrUnavailable wrapping io.ErrUnexpectedEOF", err)
		}
	}
}
