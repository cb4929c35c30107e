package config

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestREADMEDocumentsEveryVariable keeps the README's configuration tables and Config in step:
// every variable Config reads is in a table row, and every variable a table row names is read.
func TestREADMEDocumentsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`\bINVITEGW_[A-Z0-9_]*[A-Z0-9]\b`)
	documented := map[string]bool{}
	for line := range strings.SplitSeq(string(readme), "\n") {
		if strings.HasPrefix(line, "|") {
			for _, n := range name.FindAllString(line, -1) {
				documented[n] = true
			}
		}
	}
	read := Variables()
	for _, v := range read {
		if !documented[v] {
			t.Errorf("%s is read but not in a README table", v)
		}
	}
	for v := range documented {
		if !slices.Contains(read, v) {
			t.Errorf("the README documents %s, which nothing reads", v)
		}
	}
}
