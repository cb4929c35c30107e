package audit_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/invitegw/invitegw/audit"
)

// A Log over an in-memory store, as -demo would build it; with Redis the store is
// audit.NewRedis(client, "invitegw:v1:audit", maxEvents).
func Example() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "at" {
				return slog.Attr{} // for a stable example
			}
			return a
		},
	}))
	store := audit.NewMemory(100_000)
	l := audit.New(audit.Options{Store: store, Logger: log})
	defer l.Close(context.Background())

	l.Record(context.Background(), audit.Event{
		Actor:     audit.Actor{Kind: audit.ActorAPIKey, Subject: "ci-bot"},
		Operation: "revokeInvitation",
		Outcome:   audit.OutcomeSucceeded,
		RequestID: "req-1",
		Targets:   []audit.Target{{InvitationID: "inv-1", Provider: "ELASTIC", Email: "bob@example.com"}},
	})

	page, err := store.List(context.Background(), audit.Filter{Email: "Bob@Example.com"}, 20, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range page.Events {
		fmt.Println(e.Operation, e.Outcome, e.Targets[0].InvitationID)
	}
	// Output:
	// {"level":"INFO","msg":"audit","actor_kind":"API_KEY","actor_subject":"ci-bot","actor_issuer":"","operation":"revokeInvitation","outcome":"SUCCEEDED","error_code":"","request_id":"req-1","targets":[{"invitation_id":"inv-1","provider":"ELASTIC","email":"bob@example.com"}]}
	// revokeInvitation SUCCEEDED inv-1
}
