package server

import (
	"log/slog"
	"regexp"
)

// ListeningMsg is the message of the one line every lab server logs once it
// listens, with the address to reach it as its url attribute:
//
//	2026/12/01 10:00:00 INFO listening url=http://127.0.0.1:41234
//
// Whoever starts a server as a child process (the test kit, the harness)
// waits for this line and reads the address from it with ListeningURL.
const ListeningMsg = "listening"

// logListening writes the listening line.
func logListening(logger *slog.Logger, url string) {
	logger.Info(ListeningMsg, "url", url)
}

// listeningLine matches the listening line as slog's default and text
// handlers write it.
var listeningLine = regexp.MustCompile(`(?:^|[ =])` + ListeningMsg + ` url=(https?://\S+)`)

// ListeningURL returns the address in a server's listening line, and false
// if line is another line.
func ListeningURL(line string) (string, bool) {
	m := listeningLine.FindStringSubmatch(line)
	if m == nil {
		return "", false
	}
	return m[1], true
}
