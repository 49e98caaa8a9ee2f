// Command recoverer is ../deadlock routed with chi, behind chi's
// middleware.Recoverer: the same comments API (POST /comments?text=T,
// GET /comments?last=N), the same latent bug.
//
// BROKEN ON PURPOSE, and the middleware does not save it: last() still
// unlocks its mutex without a defer, so asking for more comments than there
// are panics with the mutex held. Recoverer catches the panic before net/http
// does, prints its stack to stderr and answers 500 Internal Server Error,
// which is politer than net/http's empty reply and no safer: it hides the
// panic and leaves the state as broken as before. The mutex stays locked,
// and every later request that needs it hangs forever. The poison:
//
//	go run ./4_panic-safety/recoverer &
//	curl -i '127.0.0.1:8000/comments?last=5'    # HTTP/1.1 500 Internal Server Error
//	curl '127.0.0.1:8000/comments?last=1'       # hangs
//	kill %1    # stops go run and the server with it, after the 10s grace
//
// Prove it: go test ./4_panic-safety/recoverer
package main

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"concurrencylab/internal/server"
)

// maxTextBytes bounds a comment.
const maxTextBytes = 256

func main() {
	server.Main(newHandler(newThing()))
}

// newHandler routes the comments API to t, behind middleware.Recoverer.
func newHandler(t *thing) http.Handler {
	router := chi.NewRouter()
	router.Use(middleware.Recoverer)
	router.Post("/comments", func(w http.ResponseWriter, r *http.Request) {
		text := r.URL.Query().Get("text")
		if err := checkText(text); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		t.add(text)
		fmt.Fprint(w, "ok\n")
	})
	router.Get("/comments", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("last"))
		if err != nil || n < 1 {
			http.Error(w, "last must be a positive integer", http.StatusBadRequest)
			return
		}
		for _, c := range t.last(n) { // the poison: n > the number of comments
			fmt.Fprintln(w, c)
		}
	})
	return router
}

// checkText says what is wrong with a comment's text, if anything.
func checkText(text string) error {
	switch {
	case text == "":
		return errors.New("missing text")
	case len(text) > maxTextBytes:
		return fmt.Errorf("text over %d bytes", maxTextBytes)
	case strings.ContainsAny(text, "\r\n"):
		return errors.New("text must be one line")
	}
	return nil
}
