package audit

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// streamID is a Redis Stream entry ID: milliseconds since the Unix epoch and a sequence
// number within that millisecond. Both stores use it, so cursors mean the same in each.
type streamID struct{ ms, seq uint64 }

func (id streamID) String() string {
	return strconv.FormatUint(id.ms, 10) + "-" + strconv.FormatUint(id.seq, 10)
}

func (id streamID) less(o streamID) bool {
	return id.ms < o.ms || id.ms == o.ms && id.seq < o.seq
}

// parseID parses "<ms>-<seq>", the only form a stream returns.
func parseID(s string) (streamID, error) {
	ms, seq, ok := strings.Cut(s, "-")
	if !ok {
		return streamID{}, errors.New("no '-' in stream ID")
	}
	var id streamID
	var err error
	if id.ms, err = strconv.ParseUint(ms, 10, 64); err != nil {
		return streamID{}, err
	}
	if id.seq, err = strconv.ParseUint(seq, 10, 64); err != nil {
		return streamID{}, err
	}
	return id, nil
}

// cursor is id, opaque: callers must not build or parse cursors, so their form can change.
func (id streamID) cursor() string {
	return base64.RawURLEncoding.EncodeToString([]byte(id.String()))
}

// parseCursor is cursor's inverse; its error matches ErrBadCursor.
func parseCursor(c string) (streamID, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		var id streamID
		if id, err = parseID(string(b)); err == nil {
			return id, nil
		}
	}
	return streamID{}, ErrBadCursor
}
