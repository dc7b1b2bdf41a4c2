// Package archtest holds no code, only tests that keep crunch's structure
// true as the code changes: the import graph between its layers (read from
// `go list -deps`), that the API binary links no kernel's computing code,
// and that job transitions are made by package lifecycle alone.
//
// A rule that lives next to the code it protects cannot rot silently: a
// change that breaks one fails `make test`, with a message that says which
// rule and why it exists.
package archtest
