package main

import (
	"os"
	"strings"
	"testing"
)

// The README opens with this handler; it is quoted, not retyped, so that
// what users copy is what make_outside_project.sh builds.
func TestReadmeQuotesTheMinimalHandlerVerbatim(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	source, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	const fence = "```"
	text := string(readme)
	start := strings.Index(text, fence)
	if start < 0 {
		t.Fatal("README.md has no code block")
	}
	body := text[start+len(fence):]
	header, body, _ := strings.Cut(body, "\n")
	end := strings.Index(body, fence)
	if header != "go" || end < 0 {
		t.Fatalf("README.md's first code block is not a closed go block (opens with %q)", fence+header)
	}
	if got := body[:end]; got != string(source) {
		t.Errorf("README.md's first code block differs from packaging/minimal/main.go; paste the file.\nREADME:\n%s\nmain.go:\n%s", got, source)
	}
}
