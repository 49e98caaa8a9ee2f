package notifyapi

import (
	_ "embed"
	"net/http"
)

// homePage is the notifier's page (home.html), in the style of
// gorilla/websocket's chat example: one file, its CSS and script inline,
// so that the server needs nothing beside its binary and the page nothing
// beside the server.
//
//go:embed home.html
var homePage []byte

// serveHome answers GET / with the page. Its websocket is the server's own
// origin, which the upgrader allows (Options.allowed), so it needs no
// -allow-origin.
func serveHome(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The page changes with the lab, not with the resources: no-cache makes
	// a browser ask again rather than show an old one after an upgrade.
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(homePage)
}
