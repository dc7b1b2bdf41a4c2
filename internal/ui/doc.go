// Package ui is crunch's dashboard: a static page (HTML, CSS and plain
// JavaScript, no framework and no build step) embedded in the api binary
// and served at /ui/.
//
// The page itself is public and holds nothing: everything it shows it
// reads from the /v1 API with the key the user types in, kept in the
// tab's sessionStorage and sent as Authorization: Bearer, so a tenant sees
// exactly what its key lets it see through the API, and no key ever goes
// into a URL or a server log. Event streams are read with fetch() rather
// than EventSource, which cannot send headers.
//
// Nothing is fetched from elsewhere: the Content-Security-Policy the
// handler sends allows this origin only (plus blob: images, for artifacts
// fetched with the key).
package ui
