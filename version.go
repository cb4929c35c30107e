package main

import (
	"fmt"
	"runtime/debug"
)

// buildInfo says which build this is, from what the go command records in every binary: the
// module version (a tag, or a pseudo-version; "(devel)" for a plain go build in a checkout),
// the VCS revision and its time, and whether the tree had uncommitted changes.
type buildInfo struct {
	Version, Revision, Time string
	Modified                bool
	GoVersion               string
}

// stampedVersion is set by `make build` (-ldflags -X main.stampedVersion=…, from git
// describe): a plain go build in a checkout only knows "(devel)".
var stampedVersion string

func readBuildInfo() buildInfo {
	b := buildInfo{Version: "(unknown)", Revision: "unknown"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Version, b.GoVersion = info.Main.Version, info.GoVersion
	if stampedVersion != "" {
		b.Version = stampedVersion
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// version is the line -version prints.
func version() string {
	b := readBuildInfo()
	s := fmt.Sprintf("invitegw %s, revision %s", b.Version, b.Revision)
	if b.Modified {
		s += " (modified)"
	}
	if b.Time != "" {
		s += ", committed " + b.Time
	}
	return s + ", " + b.GoVersion
}
