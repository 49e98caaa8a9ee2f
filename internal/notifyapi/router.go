package notifyapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
)

// A Store keeps the resources, and announces each change as it makes it:
// the change and its event are one step, so that events go out in the
// order of the changes. An error is the store's being unavailable (its
// hub has stopped, Redis is unreachable): the change was not made.
// Resources is the in-memory one.
type Store interface {
	// Create stores body as a new resource and returns its event.
	Create(ctx context.Context, body json.RawMessage) (Event, error)
	// Update replaces resource id with body and returns its event; found
	// is false, and nothing changes, if there is no such resource.
	Update(ctx context.Context, id int64, body json.RawMessage) (e Event, found bool, err error)
	// Get returns resource id, and whether there is one.
	Get(ctx context.Context, id int64) (body json.RawMessage, found bool, err error)
}

// NewRouter serves the contract, with subscribe answering GET /ws, and the
// notifier's page, the same in every version:
//
//	GET  /                the page (home.html): the events, /stats and the websocket, live.
//	GET  /ws              upgrades to a websocket that receives every Event as JSON text.
//	POST /resources       stores the JSON body as a new resource: 201, its Event, Location.
//	PUT  /resources/{id}  replaces resource id: 200, its Event; 404 if there is none.
//	GET  /resources/{id}  200, the resource's JSON; 404 if there is none.
//	GET  /stats           200, Stats as JSON.
//
// Bad input gets a 4xx with a one-line message and changes nothing: a body
// that is not JSON 400, one over MaxBodyBytes 413, an unknown path 404, a
// wrong method 405. If the store is unavailable, a request of it gets a
// 503.
func NewRouter(subscribe http.HandlerFunc, rs Store, stats func(context.Context) (Stats, error)) http.Handler {
	r := chi.NewRouter()
	r.Get("/", serveHome)
	r.Get("/ws", subscribe)
	r.Post("/resources", func(w http.ResponseWriter, r *http.Request) {
		body, ok := readJSON(w, r)
		if !ok {
			return
		}
		e, err := rs.Create(r.Context(), body)
		if err != nil {
			unavailable(w, err)
			return
		}
		w.Header().Set("Location", "/resources/"+strconv.FormatInt(e.ID, 10))
		writeJSON(w, http.StatusCreated, e.JSON())
	})
	r.Put("/resources/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, ok := resourceID(w, r)
		if !ok {
			return
		}
		body, ok := readJSON(w, r)
		if !ok {
			return
		}
		e, found, err := rs.Update(r.Context(), id, body)
		switch {
		case err != nil:
			unavailable(w, err)
		case !found:
			noResource(w, r)
		default:
			writeJSON(w, http.StatusOK, e.JSON())
		}
	})
	r.Get("/resources/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, ok := resourceID(w, r)
		if !ok {
			return
		}
		body, found, err := rs.Get(r.Context(), id)
		if err != nil {
			unavailable(w, err)
			return
		}
		if !found {
			noResource(w, r)
			return
		}
		writeJSON(w, http.StatusOK, body)
	})
	r.Get("/stats", func(w http.ResponseWriter, r *http.Request) {
		s, err := stats(r.Context())
		if err != nil {
			unavailable(w, err)
			return
		}
		b, _ := json.Marshal(s)
		writeJSON(w, http.StatusOK, b)
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unknown path "+r.URL.Path+": use /, /ws, /resources, /resources/{id} or /stats", http.StatusNotFound)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, r.Method+" not allowed on "+r.URL.Path, http.StatusMethodNotAllowed)
	})
	return r
}

// readJSON reads the request body, which must be JSON of at most
// MaxBodyBytes. A bad body is answered with a 4xx, and readJSON returns
// false.
func readJSON(w http.ResponseWriter, r *http.Request) (json.RawMessage, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		http.Error(w, fmt.Sprintf("body is over the limit of %d bytes", MaxBodyBytes), http.StatusRequestEntityTooLarge)
	case err != nil:
		http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
	case !json.Valid(body):
		http.Error(w, "body is not JSON", http.StatusBadRequest)
	default:
		return body, true
	}
	return nil, false
}

// resourceID parses the {id} of the path. An id that cannot name a
// resource is answered with a 404, and resourceID returns false.
func resourceID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		noResource(w, r)
		return 0, false
	}
	return id, true
}

func noResource(w http.ResponseWriter, r *http.Request) {
	http.Error(w, fmt.Sprintf("no resource %q", chi.URLParam(r, "id")), http.StatusNotFound)
}

func unavailable(w http.ResponseWriter, err error) {
	http.Error(w, "notifier unavailable: "+err.Error(), http.StatusServiceUnavailable)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
	w.Write([]byte("\n"))
}
